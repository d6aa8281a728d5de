#!/usr/bin/env bash
# Load test of the release binary with wrk: POST /auth/login and GET /auth/validate.
# Usage: scripts/bench.sh [DATABASE_URL]   (default: a fresh SQLite file)
# Rate limits are off so the load generator measures the service, not the limiter. SCRYPT_LOG_N lowers the
# password cost to see what a login costs besides scrypt (default: the shipped 17).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)"; exit 1; }

dir=$(mktemp -d)
trap 'kill "${pid:-0}" 2>/dev/null || true; rm -rf "$dir"' EXIT
url=${1:-sqlite://$dir/bench.db}
port=18080
duration=${DURATION:-15s}
connections=${CONNECTIONS:-16}

cargo build --release -p authd >/dev/null
AUTHD__DATABASE__URL=$url AUTHD__SERVER__BIND=127.0.0.1:$port AUTHD__COOKIES__SECURE=false \
  AUTHD__RATE_LIMIT__ENABLED=false AUTHD__PASSWORD__HASH_QUEUE=1024 AUTHD_LOG=warn \
  AUTHD__PASSWORD__SCRYPT_LOG_N=${SCRYPT_LOG_N:-17} \
  target/release/authd >"$dir/authd.log" 2>&1 &
pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done

email="bench-$RANDOM@example.com"
password="a benchmark passphrase"
body="{\"email\":\"$email\",\"name\":\"Bench\",\"password\":\"$password\"}"
token=$(curl -sf -X POST "http://127.0.0.1:$port/auth/register" -H 'content-type: application/json' -d "$body" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

cat >"$dir/login.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"email":"$email","password":"$password"}'
wrk.headers["Content-Type"] = "application/json"
LUA

echo "== POST /auth/login (scrypt at the configured cost), $connections connections, $duration"
wrk -t2 -c"$connections" -d"$duration" --latency -s "$dir/login.lua" "http://127.0.0.1:$port/auth/login"
echo "== GET /auth/validate (Biscuit verification, the session read, then the user with workspaces in one read), $connections connections, $duration"
wrk -t2 -c"$connections" -d"$duration" --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port/auth/validate"
