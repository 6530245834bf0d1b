#!/usr/bin/env bash
# The quick start in one command: install ceilometer-export into .venv,
# start the bundled Ceilometer/Keystone simulator on loopback, export its
# samples into demo/ceilometer-export.sqlite, and show what landed.
set -euo pipefail
cd "$(dirname "$0")/.."
CE_PORT=${CE_PORT:-18777}
KS_PORT=${KS_PORT:-15000}

mkdir -p demo
if [ ! -x .venv/bin/ceilometer-export ]; then
    echo "== installing into .venv"
    python3 -m venv .venv
    .venv/bin/pip install -q --upgrade pip > demo/install.log 2>&1
    .venv/bin/pip install -q -e . >> demo/install.log 2>&1 ||
        { cat demo/install.log; exit 1; }
fi
mkdir -p demo
rm -f demo/ceilometer-export.sqlite

echo "== starting the simulator (Ceilometer :$CE_PORT, Keystone :$KS_PORT)"
.venv/bin/ceilometer-export-simulator --port "$CE_PORT" \
    --keystone-port "$KS_PORT" --cycles 36 --start now &
SIM_PID=$!
trap 'kill $SIM_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $CE_PORT), 0.2)" \
        2>/dev/null && break
    sleep 0.2
done

{
    .venv/bin/ceilometer-export-simulator --port "$CE_PORT" \
        --keystone-port "$KS_PORT" --print-config
    cat <<CONF

[database]
connection = sqlite:///demo/ceilometer-export.sqlite

[export]
poll_interval = 60

[mapping:compute]
query = project_id=p-alpha-0001
meters = cpu_util, memory.usage

[mapping:everything]
query =
meters = *
CONF
} > demo/ceilometer-export.conf
# It holds a password: readable by its owner only, as the exporter asks.
chmod 600 demo/ceilometer-export.conf
echo "== configuration: demo/ceilometer-export.conf"

echo "== ceilometer-export-dbsync"
.venv/bin/ceilometer-export-dbsync --config-file demo/ceilometer-export.conf
echo "== ceilometer-export --once"
.venv/bin/ceilometer-export --config-file demo/ceilometer-export.conf --once
echo "== ceilometer-export-status"
.venv/bin/ceilometer-export-status --config-file demo/ceilometer-export.conf
echo "== average and maximum cpu_util per instance type (ceilometer-export-stats)"
.venv/bin/ceilometer-export-stats --config-file demo/ceilometer-export.conf \
    --meter cpu_util --groupby instance_type --aggregate avg,max,count
