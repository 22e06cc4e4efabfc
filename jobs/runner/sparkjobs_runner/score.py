"""Score stage: loads a saved pipeline model (a `models:` entry of the plan) and scores rows without retraining."""
from pyspark.ml import PipelineModel
from .vectors import vector_to_array
from pyspark.sql import functions as F

from .classifier import with_source_features
from .errors import INVALID_INPUT, RunnerError, describe


def run(spark, stage, log, ctx):
    config = stage["config"]
    uri = ctx["planModels"][config["model"]]
    try:
        model = PipelineModel.load(uri)
    except Exception as e:  # noqa: BLE001 - a missing or foreign folder: say which
        raise RunnerError(INVALID_INPUT, f"stage {stage['name']}: cannot load the model {config['model']} from {uri}: {describe(e)}",
                          where=uri, fix="pass the id of a complete run that saved this model")
    # A model that learned from the source's own customer columns reads them again here.
    rows = with_source_features(spark, spark.table(stage["input"]), config)
    try:
        scored = model.transform(rows)
        scored.schema  # resolves the plan: a missing column fails here, not at write time
    except Exception as e:  # noqa: BLE001
        raise RunnerError(INVALID_INPUT, f"stage {stage['name']}: the model {config['model']} cannot read {stage['input']}: {describe(e)}",
                          where=stage["input"], fix="give the rows every column the model was trained on (the model's manifest lists them)")
    out = scored.select(*config["keep"], vector_to_array(F.col("probability"))[1].alias(config["probability"]))
    out.createOrReplaceTempView(config["outputs"]["scores"])
    log(f"{stage['name']}: scoring {stage['input']} with {uri}")
    return {"model": config["model"], "modelUri": uri}
