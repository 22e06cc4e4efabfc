# A Spark worker for the standalone target: the official apache/spark image plus one Python
# interpreter whose minor version matches the driver's.
#
# Why: the runner makes a few small DataFrames from local Python data, which starts Python
# workers next to the executors, and PySpark refuses a Python worker whose minor version differs
# from the driver's. The driver is the pinned pyspark venv on the submitting machine (Python 3.9
# or newer: numpy 1.26.4); this image's own python3 is 3.8 (Ubuntu 20.04). So the image gets the
# driver's Python X.Y as a standalone build installed by uv, linked at /usr/local/bin/sparkjobs-python,
# and runs pass `-c spark.pyspark.python=/usr/local/bin/sparkjobs-python`.
FROM apache/spark:3.5.5-python3

# The driver's Python minor version, e.g. 3.11 (compose passes SPARKJOBS_PYTHON_VERSION).
ARG PYTHON_VERSION=3.11
ARG UV_VERSION=0.9.5

USER root
RUN set -eux; \
    python3 -m pip install --no-cache-dir "uv==${UV_VERSION}"; \
    export UV_PYTHON_INSTALL_DIR=/opt/python; \
    uv python install --no-cache "${PYTHON_VERSION}"; \
    ln -s "$(uv python find --managed-python --no-project "${PYTHON_VERSION}")" /usr/local/bin/sparkjobs-python; \
    python3 -m pip uninstall -y uv; \
    chmod -R a+rX /opt/python; \
    /usr/local/bin/sparkjobs-python -c 'import sys; print("sparkjobs-python", sys.version)'
USER spark
