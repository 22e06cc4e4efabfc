"""Airflow operators for sparkjobs: they run the `sparkjobs` CLI installed beside Airflow."""

from .operators import SparkjobsPipelineOperator, SparkjobsRunOperator
from .outcomes import EXIT_CODES, outcome
from .pipeline_dag import pipeline_dag, pipeline_tasks
from .run_ids import derive_run_id

__all__ = ["SparkjobsRunOperator", "SparkjobsPipelineOperator", "pipeline_dag", "pipeline_tasks", "derive_run_id", "outcome", "EXIT_CODES"]
__version__ = "0.1.0"
