# Everyday recipes. The README's two commands need no just; these are conveniences.

# Run the service on the embedded SQLite default (plain-http cookies for local development).
run:
    AUTHD__COOKIES__SECURE=false cargo run --release -p authd

# All tests: domain, store (SQLite and PostgreSQL) and HTTP.
test:
    cargo test --workspace

# Formatting and lints, as strict as CI wants them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# The dependency rule: domain and application crates never depend on infrastructure (a test over cargo
# metadata, also part of `just test` and CI).
layering:
    cargo test -p authd-architecture

# What CI runs: formatting, lints, then every test (the layering and migration-drift checks among them).
ci:
    .ci/run

# Apply migrations to DATABASE_URL and exit.
migrate:
    cargo run --release -p authd -- migrate

# Load-test login and validate against a release binary (needs wrk); see docs/benchmarks.md.
bench:
    scripts/bench.sh

# The black-box contract suite (Python, over HTTP, against the real binary), on SQLite then PostgreSQL.
# Needs python3 and the local PostgreSQL; installs its packages into target/blackbox-venv on first use.
blackbox:
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build -p authd
    venv=target/blackbox-venv
    if [ ! -x "$venv/bin/pytest" ]; then
      python3 -m venv "$venv"
      "$venv/bin/pip" install -q -r apps/authd/tests/blackbox/requirements.txt
    fi
    for db in sqlite postgres; do
      BB_DB=$db "$venv/bin/pytest" -q apps/authd/tests/blackbox/test_contract.py
    done
