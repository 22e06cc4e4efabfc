#!/usr/bin/env bash
# A Hadoop cluster on loopback (HDFS: a NameNode and two DataNodes; YARN: a ResourceManager and
# two NodeManagers), to try the yarn target and hdfs:// roots without a cluster. The tests start
# the same one. Needs `bash scripts/bootstrap.sh --with-hadoop` first (npm run hadoop does both).
#
#   bash scripts/hadoop.sh [start] [DIR]   start it (default DIR: ~/.cache/sparkjobs/hadoop/cluster),
#                                          wait until every node is up, print its addresses
#   bash scripts/hadoop.sh stop [DIR]      stop it
#
# Then: export HADOOP_CONF_DIR=DIR/conf, and run with --target yarn --root hdfs:///sparkjobs.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmd=${1:-start}
case "$cmd" in start | stop) shift || true ;; *) cmd=start ;; esac
dir=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/sparkjobs/hadoop/cluster}
say() { printf '[hadoop] %s\n' "$*" >&2; }
pid_of() { [ -f "$dir/cluster.pid" ] && cat "$dir/cluster.pid"; }

if [ "$cmd" = stop ]; then
  pid=$(pid_of || true)
  # The NodeManagers are JVMs of their own: stopped with the cluster, and here too should it hang.
  nms=$(grep -o '"pid": [0-9]*, "nodeId"' "$dir/cluster.json" 2>/dev/null | grep -o '[0-9]*' | tr '\n' ' ' || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
    say "stopped ($dir)"
  else
    say "not running ($dir)"
  fi
  for nm in $nms; do kill -9 "$nm" 2>/dev/null || true; done
  rm -f "$dir/cluster.pid" "$dir/cluster.json"
  exit 0
fi

pid=$(pid_of || true)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ -f "$dir/cluster.json" ]; then
  say "already running ($dir)"
  cat "$dir/cluster.json"
  exit 0
fi
lib=$(node "$here/dist/submitter/src/env/where.js" hadoop-lib)
classes=$(node "$here/dist/submitter/src/env/where.js" hadoop-classes)
cluster_python=$(node "$here/dist/submitter/src/env/where.js" cluster-python)
[ -f "$lib/.complete" ] && [ -f "$classes/MiniHadoop.class" ] && [ -x "$cluster_python/bin/python3" ] \
  || { say "error: the mini cluster is not installed; run bash scripts/bootstrap.sh --with-hadoop"; exit 9; }
rm -rf "$dir" && mkdir -p "$dir"
# The nodes' containers find python3 first in the cluster's own Python (numpy, no pyspark).
opens=""
for p in java.lang java.util java.lang.reflect java.io java.net java.nio sun.nio.ch java.util.concurrent; do
  opens="$opens --add-opens java.base/$p=ALL-UNNAMED"
done
# setsid: the cluster outlives the shell that started it, and a signal to that shell's group does not reach it.
PATH="$cluster_python/bin:$PATH" setsid java -Xmx768m $opens -Dlog4j.configuration=none -cp "$classes:$lib/*" \
  MiniHadoop cluster "$dir" >"$dir/cluster.log" 2>&1 </dev/null &
echo $! >"$dir/cluster.pid"
for _ in $(seq 900); do
  [ -f "$dir/cluster.json" ] && break
  if ! kill -0 "$(pid_of)" 2>/dev/null; then
    say "error: the mini cluster did not start; the end of $dir/cluster.log:"
    tail -20 "$dir/cluster.log" >&2
    exit 9
  fi
  sleep 0.2
done
[ -f "$dir/cluster.json" ] || { say "error: the mini cluster was not up within 180 s; see $dir/cluster.log"; exit 9; }
say "running ($dir); stop it with: bash scripts/hadoop.sh stop $dir"
say "use it with: export HADOOP_CONF_DIR=$dir/conf"
cat "$dir/cluster.json"
