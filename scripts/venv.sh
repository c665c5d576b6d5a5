# Shared by scripts/test and scripts/demo: create .venv and install the project into it.
# Re-installs only when setup.cfg changed since the last install.
ensure_venv() {
  local extras="${1:-}"
  local python="${PYTHON:-python3}"
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "dost-queue needs Python 3.11 or newer (found: $("$python" --version 2>&1))." >&2
    exit 1
  fi
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  # shellcheck disable=SC1091
  . .venv/bin/activate
  local stamp=".venv/.installed-${extras:-base}"
  if [ ! -f "$stamp" ] || [ setup.cfg -nt "$stamp" ]; then
    python -m pip install --quiet --upgrade pip
    if [ -n "$extras" ]; then
      python -m pip install --quiet -e ".[$extras]"
    else
      python -m pip install --quiet -e .
    fi
    touch "$stamp"
  fi
}
