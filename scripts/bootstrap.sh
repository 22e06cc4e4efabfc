#!/usr/bin/env bash
# Installs whatever is missing for sparkjobs on this machine. Idempotent: a second run downloads
# nothing. npm start and npm test call it; with --with-s3 (npm test passes it) it also installs
# what s3:// data needs on a local or standalone Spark, and the S3 server the tests run.
#   - npm packages (npm ci when package-lock.json changed since the last install)
#   - the TypeScript build (when a source file is newer than the build stamp)
#   - a Python virtual environment with the pinned pyspark, under ~/.cache/sparkjobs
#   - a check for Java 17
#   - a class-data-sharing archive of Spark's classes for local drivers' JVMs (about 0.9x the time)
#   - with --with-hadoop (npm test passes it): the Hadoop mini cluster of scripts/hadoop (HDFS and
#     YARN 3.3.4 jars from Maven Central, checked against scripts/hadoop/jars.sha1; its launcher
#     compiled with javac; a Python with numpy for its nodes), all under ~/.cache/sparkjobs
#   - with --with-browser (npm test passes it): Chromium from Debian's packages (apt-get, as root)
#   - with --with-airflow (npm test passes it): Airflow 3 with the Amazon provider in a virtual
#     environment of its own (integrations/airflow/requirements-test.txt), under ~/.cache/sparkjobs
#   - with --with-s3: the S3A jars from Maven Central (scripts/pins.txt, checked by sha1) and
#     MinIO built with go install from the Go module proxy, all under ~/.cache/sparkjobs
set -euo pipefail
with_s3=0
with_hadoop=0
with_browser=0
with_airflow=0
for arg in "$@"; do
  case "$arg" in
    --with-s3) with_s3=1 ;;
    --with-hadoop) with_hadoop=1 ;;
    --with-browser) with_browser=1 ;;
    --with-airflow) with_airflow=1 ;;
    --no-run) ;; # kept for older callers: this script never runs a job
    *) printf '[bootstrap] unknown option %s (known: --with-s3, --with-hadoop, --with-browser, --with-airflow)\n' "$arg" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
say() { printf '[bootstrap] %s\n' "$*" >&2; }
die() { printf '[bootstrap] error: %s\n' "$*" >&2; exit 9; }

# 1. Java 17 (Spark 3.5 runs on 8, 11 and 17; EMR 7 uses 17).
java_bin=${JAVA_HOME:+$JAVA_HOME/bin/}java
if ! command -v "$java_bin" >/dev/null 2>&1; then
  die "Java 17 was not found. Install it (Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless; macOS: brew install openjdk@17) or set JAVA_HOME to a Java 17 installation, then run this again."
fi
java_version=$("$java_bin" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
if [ "$java_version" != "17" ]; then
  die "Java 17 is required, found Java ${java_version:-unknown} at $(command -v "$java_bin"). Set JAVA_HOME to a Java 17 installation (Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless)."
fi

# 2. npm packages.
stamp_dir=node_modules/.sparkjobs
lock_hash=$(sha256sum package-lock.json | cut -c1-16)
if [ ! -f "$stamp_dir/lock-$lock_hash" ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error >&2
  mkdir -p "$stamp_dir" && touch "$stamp_dir/lock-$lock_hash"
fi

# 3. TypeScript build, when any source is newer than the last build.
if [ ! -f dist/.stamp ] || [ -n "$(find submitter/src schemas/src bench tsconfig.json -newer dist/.stamp -name '*.ts' -o -newer dist/.stamp -name 'tsconfig.json' 2>/dev/null | head -1)" ]; then
  say "building TypeScript"
  rm -rf dist
  npx --no-install tsc -p tsconfig.json
  touch dist/.stamp
fi

# 4. Python virtual environment with the pinned Spark, keyed by the requirements' content.
python_bin=${SPARKJOBS_BOOTSTRAP_PYTHON:-python3}
command -v "$python_bin" >/dev/null 2>&1 || die "python3 (3.9 to 3.11) was not found; install it (apt-get install -y python3 python3-venv) and run this again."
venv=$(node dist/submitter/src/env/where.js venv)
if [ ! -x "$venv/bin/spark-submit" ] || [ ! -f "$venv/.complete" ]; then
  say "creating Python environment $venv (pyspark from jobs/runner/requirements.txt)"
  rm -rf "$venv"
  "$python_bin" -m venv "$venv" || die "could not create a virtual environment; install python3-venv (apt-get install -y python3-venv)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --cache-dir "${XDG_CACHE_HOME:-$HOME/.cache}/pip" -r tests/requirements.txt >&2
  touch "$venv/.complete"
fi
say "ready: Java $java_version, $("$venv/bin/python" -c 'import pyspark,sys; print("pyspark", pyspark.__version__, "python", sys.version.split()[0])')"
# The classes of Spark, parsed and verified once, for local drivers' JVMs to map at start
# (submitter/src/env/class-archive.ts): about a minute, once; never fails the bootstrap.
node dist/submitter/src/env/class-archive.js build

# Chromium (Debian's package), which the tests open the HTML report in.
if [ "$with_browser" = 1 ] && ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/lib/chromium/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Chromium (apt-get install chromium) for the report's browser test"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >&2 || die "apt-get install chromium failed"
  else
    die "the tests open the HTML report in Chromium, which was not found: install it (Debian/Ubuntu: apt-get install chromium) or set SPARKJOBS_CHROMIUM to its executable, then run this again"
  fi
fi

# Airflow (and its Amazon provider) for the tests of integrations/airflow: a virtual environment
# of its own, every package pinned, keyed by the requirements' content.
if [ "$with_airflow" = 1 ]; then
  airflow_venv=$(node dist/submitter/src/env/where.js airflow-venv)
  if [ ! -f "$airflow_venv/.complete" ]; then
    say "creating Airflow's environment $airflow_venv (integrations/airflow/requirements-test.txt; about 2 minutes the first time)"
    rm -rf "$airflow_venv"
    "$python_bin" -m venv "$airflow_venv" || die "could not create a virtual environment; install python3-venv"
    "$airflow_venv/bin/pip" install --quiet --disable-pip-version-check --cache-dir "${XDG_CACHE_HOME:-$HOME/.cache}/pip" \
      -r integrations/airflow/requirements-test.txt pytest==8.3.4 >&2 || die "pip could not install integrations/airflow/requirements-test.txt"
    touch "$airflow_venv/.complete"
  fi
  say "ready for Airflow: $("$airflow_venv/bin/python" -c 'import airflow, sys; print("Airflow", airflow.__version__, "python", sys.version.split()[0])' 2>/dev/null)"
fi

# 5. The Hadoop mini cluster (HDFS + YARN on loopback) for the yarn target's tests and trials.
if [ "$with_hadoop" = 1 ]; then
  lib=$(node dist/submitter/src/env/where.js hadoop-lib)
  if [ ! -f "$lib/.complete" ]; then
    command -v mvn >/dev/null 2>&1 || die "Maven was not found; it resolves the Hadoop mini cluster's jars (apt-get install -y maven)"
    say "resolving the Hadoop 3.3.4 mini cluster's jars with Maven (about 100 MB, the first time)"
    rm -rf "$lib.part"
    mvn -q -B -C -Dstyle.color=never -f scripts/hadoop/pom.xml -Dmaven.repo.local="${XDG_CACHE_HOME:-$HOME/.cache}/sparkjobs/m2" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$lib.part" >&2 || die "Maven could not resolve scripts/hadoop/pom.xml"
    (cd "$lib.part" && sha1sum -c --quiet "$here/scripts/hadoop/jars.sha1" >&2) || die "the Hadoop jars do not match scripts/hadoop/jars.sha1"
    extra=$(cd "$lib.part" && ls *.jar | grep -vxF -f <(awk '{print $2}' "$here/scripts/hadoop/jars.sha1") || true)
    [ -z "$extra" ] || die "Maven resolved jars that scripts/hadoop/jars.sha1 does not list: $extra"
    rm -rf "$lib" && mv "$lib.part" "$lib" && touch "$lib/.complete"
  fi
  classes=$(node dist/submitter/src/env/where.js hadoop-classes)
  if [ ! -f "$classes/MiniHadoop.class" ]; then
    command -v javac >/dev/null 2>&1 || die "javac was not found; install a Java 17 JDK (apt-get install -y openjdk-17-jdk-headless)"
    say "compiling the mini cluster launcher"
    rm -rf "$classes" && mkdir -p "$classes.part"
    javac -nowarn -d "$classes.part" -cp "$lib/*" scripts/hadoop/MiniHadoop.java >&2 || die "javac scripts/hadoop/MiniHadoop.java failed"
    mv "$classes.part" "$classes"
  fi
  cluster_python=$(node dist/submitter/src/env/where.js cluster-python)
  if [ ! -f "$cluster_python/.complete" ]; then
    say "creating the mini cluster's Python $cluster_python (scripts/hadoop/cluster-requirements.txt)"
    rm -rf "$cluster_python"
    "$python_bin" -m venv "$cluster_python" || die "could not create a virtual environment; install python3-venv"
    "$cluster_python/bin/pip" install --quiet --disable-pip-version-check --cache-dir "${XDG_CACHE_HOME:-$HOME/.cache}/pip" -r scripts/hadoop/cluster-requirements.txt >&2
    touch "$cluster_python/.complete"
  fi
  say "ready for Hadoop: $(ls "$lib" | grep -c '\.jar$') jars, launcher $(basename "$classes"), cluster Python $("$cluster_python/bin/python" -c 'import numpy,sys; print(sys.version.split()[0], "numpy", numpy.__version__)')"
fi

[ "$with_s3" = 1 ] || exit 0

# 5. S3A jars for s3:// and s3a:// on a local or standalone Spark (EMR brings its own).
cache=${XDG_CACHE_HOME:-$HOME/.cache}/sparkjobs
mkdir -p "$cache/jars"
grep -E '^jar ' scripts/pins.txt | while read -r _ name url sha1; do
  [ -f "$cache/jars/$name" ] && continue
  say "downloading $name"
  curl -fsSL --retry 3 -o "$cache/jars/$name.part" "$url" || die "could not download $url"
  echo "$sha1  $cache/jars/$name.part" | sha1sum -c --quiet - >&2 || die "$name does not match its sha1 in scripts/pins.txt"
  mv "$cache/jars/$name.part" "$cache/jars/$name"
done

# 6. MinIO, the S3-compatible server the tests start on loopback.
minio=$(node dist/submitter/src/env/where.js minio)
if [ ! -x "$minio" ]; then
  command -v go >/dev/null 2>&1 || die "Go was not found; the tests build MinIO with go install (apt-get install -y golang, or https://go.dev/dl)"
  module=$(awk '$1 == "go" && $2 == "minio" { print $3 }' scripts/pins.txt)
  say "building MinIO ($module) with go install; the first time takes about 5 minutes"
  GOPATH="$cache/go" GOMODCACHE="$cache/go/pkg/mod" GOFLAGS=-modcacherw GOBIN=$(dirname "$minio") go install "$module" >&2 \
    || die "go install $module failed"
fi
say "ready for S3: $(ls "$cache/jars" | grep -c '\.jar$') S3A jars, $("$minio" --version | head -1)"
