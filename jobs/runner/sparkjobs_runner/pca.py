"""PCA stage: principal components of the (log-transformed, standardised) customer features, the share
of variance each explains, and every customer's projection on the first components (for the report)."""
from pyspark.ml import Pipeline
from pyspark.ml.feature import PCA, SQLTransformer, StandardScaler, VectorAssembler
from .vectors import vector_to_array
from pyspark.sql import functions as F

from .errors import INVALID_INPUT, RunnerError


def run(spark, stage, log, ctx):
    config = stage["config"]
    id_col, features, k = config["idColumn"], config["features"], config["components"]
    logs = set(config["log1p"])
    if k > len(features):
        raise RunnerError(INVALID_INPUT, f"stage {stage['name']}: {k} components from {len(features)} features",
                          where=stage["name"], fix="ask for at most as many components as there are features")
    rows = spark.table(stage["input"])
    casts = ", ".join(f"{'log1p(' if c in logs else ''}CAST(`{c}` AS DOUBLE){')' if c in logs else ''} AS `__p_{c}`" for c in features)
    prepared = SQLTransformer(statement=f"SELECT `{id_col}`, {casts} FROM __THIS__").transform(rows)
    bad = prepared.where(" OR ".join(f"`__p_{c}` IS NULL OR isnan(`__p_{c}`)" for c in features)).count()
    if bad:
        raise RunnerError(INVALID_INPUT, f"stage {stage['name']}: {bad} rows of {stage['input']} have a null or NaN feature (or one below -1 before log1p)",
                          where=stage["input"], fix="filter or impute them in the SQL stage that builds the features")
    model = Pipeline(stages=[
        VectorAssembler(inputCols=[f"__p_{c}" for c in features], outputCol="__raw"),
        StandardScaler(inputCol="__raw", outputCol="__scaled", withMean=True, withStd=True),
        PCA(k=k, inputCol="__scaled", outputCol="__pcs"),
    ]).fit(prepared)
    pca = model.stages[-1]
    explained = [float(v) for v in pca.explainedVariance.toArray()]
    loadings = pca.pc.toArray()  # features x components
    projected = model.transform(prepared).select(id_col, vector_to_array("__pcs").alias("__v"))
    projected.select(id_col, *[F.col("__v")[i].alias(f"pc{i + 1}") for i in range(min(k, 2))]) \
        .createOrReplaceTempView(config["outputs"]["projection"])
    log(f"{stage['name']}: explained variance {', '.join(f'{v:.3f}' for v in explained)}")
    return {
        "components": k,
        "explainedVariance": explained,
        "cumulativeExplainedVariance": [sum(explained[: i + 1]) for i in range(k)],
        "loadings": {f: [float(x) for x in loadings[j]] for j, f in enumerate(features)},
    }
