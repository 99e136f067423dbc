# Chat-Rec. The two commands a fresh machine needs: `make run` and `make test`.
SHELL := /bin/bash
PY := .venv/bin/python
# implicit's ALS is slower with threaded OpenBLAS
export OPENBLAS_NUM_THREADS ?= 1
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup run interactive serve telegram slack demo bench-chat bench-chat-retrain bench-chat-production test lint test-fast check-deploy train eval eval-nlu bench bench-tasks simulate simulate-chat worker learning-worker beat retrain rollback lock clean-models

setup:                 ## the pinned Python 3.10 environment, linked as .venv
	@bash scripts/setup-env.sh

run: setup             ## train what is missing, then talk to the bot in `rasa shell` (embedded defaults)
	$(PY) -m chatrec run

interactive: setup     ## `rasa interactive` on the same stack (worker + action server)
	$(PY) -m chatrec interactive

serve: setup           ## Rasa's HTTP server (REST channel) with worker + action server, for channels
	$(PY) -m chatrec serve

telegram: setup        ## the Telegram adapter + bot stack (TELEGRAM_BOT_TOKEN; see README)
	$(PY) -m chatrec telegram

slack: setup           ## the Slack adapter + bot stack (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET; see README)
	$(PY) -m chatrec slack

demo: setup            ## the recommender alone answering a few requests (no chat)
	$(PY) -m recommender train --if-missing
	$(PY) -m recommender demo

test: setup lint       ## lint and type check, then the whole test suite (unit, integration and e2e tiers)
	$(PY) -m pytest -q

lint: setup            ## ruff (lint, import order) and mypy, as configured in pyproject.toml
	$(PY) -m ruff check .
	$(PY) -m mypy

test-fast: setup       ## the unit tier only (under a minute)
	$(PY) -m pytest -q -m unit

check-deploy: setup    ## the Dockerfile and deploy/ (Compose, Kubernetes, nginx) against their schemas and the code; no daemon
	$(PY) -m pytest -q tests/deploy/test_deployment_files.py

train: setup           ## recommender: tune, measure, refit, promote; then the Rasa model (models/rasa)
	$(PY) -m recommender train
	$(PY) -m launcher.stack train

eval: setup            ## offline evaluation: hybrid vs baselines, cold start (reports/)
	$(PY) -m recommender eval

bench: setup           ## fit time, latency, memory, synthetic scale run -> docs/benchmarks.md
	$(PY) -m devtools.bench

bench-chat: setup      ## N concurrent users over REST: this bot vs a plain `rasa init` bot -> docs/benchmarks.md
	$(PY) -m devtools.bench_chat

bench-chat-retrain: setup  ## 50 users x 20 realistic turns, quiet and while the model retrains -> docs/benchmarks.md
	$(PY) -m devtools.bench_chat --retrain

bench-chat-production: setup  ## the production layout vs the embedded default from a fresh start, a worker killed -> docs/benchmarks.md
	$(PY) -m devtools.bench_chat --production

bench-tasks: setup     ## recommend through Celery + a private Redis, 1 and 8 callers, vs in-process
	$(PY) -m devtools.bench_tasks

simulate: setup        ## simulated users give feedback for 3 rounds: loop vs static -> docs/benchmarks.md
	$(PY) -m recommender simulate

simulate-chat: setup   ## simulated people reach a wanted item: critiquing vs "more" vs popularity -> docs/benchmarks.md
	$(PY) -m devtools.simulate_chat

worker: setup          ## the interactive Celery worker: what conversations wait for (broker: CHATREC_BROKER_URL)
	$(PY) -m chatrec worker

learning-worker: setup ## the learning Celery worker: retraining only, at low CPU priority
	$(PY) -m chatrec learning-worker

beat: setup            ## Celery beat: schedules the nightly retrain (run one per deployment)
	$(PY) -m chatrec beat

retrain: setup         ## retrain on MovieLens + stored feedback; promoted only if not worse
	$(PY) -m chatrec retrain

rollback: setup        ## serve the previous model version again
	$(PY) -m chatrec rollback

eval-nlu: setup        ## BERT vs DIET: held-out + 5-fold CV, latency, size -> docs/benchmarks.md
	$(PY) -m bot.evaluate_nlu

lock: setup            ## re-resolve requirements.in into requirements.lock
	rm -rf /tmp/chatrec-lock && python3.10 -m venv /tmp/chatrec-lock 2>/dev/null || \
	  $$(ls $$HOME/.pyenv/versions/3.10.*/bin/python3.10 | tail -1) -m venv /tmp/chatrec-lock
	/tmp/chatrec-lock/bin/pip install -r requirements.in
	{ sed -n '1,2p' requirements.lock; /tmp/chatrec-lock/bin/pip freeze; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean-models:
	rm -rf models
