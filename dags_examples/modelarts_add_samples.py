"""Add samples that are not in OBS: ``AddSamplesOperator`` sends each file's bytes from the worker.

Data already in OBS is imported by the service instead (``ImportFromObsOperator``, as
``modelarts_labeling_pipeline`` does): nothing passes through a worker and the cost does not grow with the
files. ``AddSamplesOperator`` is for the rest: files a worker can read but ModelArts cannot (a local disk,
files shipped with the DAG, a store the service has no access to), a few samples an earlier task made (by
XCom), a model's predictions as labels.

Here: the reference images shipped with this DAG (``data/daily_drop/*.png``: part of the DAG bundle, so on
every worker), each added as a sample named after its file, in batches, each file read when its batch is
built. ``reference_dir`` may also be an object-store URL (``s3://<conn_id>@bucket/prefix``): the worker then
reads the files through Airflow's ``ObjectStoragePath``. A re-run adds nothing twice: a sample whose name
the dataset already holds is reported as ``already_present``. The task's XCom counts ``added``,
``already_present``, ``failed`` and ``invalid``; the samples are announced through the asset alias
``modelarts-samples-added``.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_modelarts.operators.samples import AddSamplesOperator

REFERENCE_IMAGES = Path(__file__).parent / "data" / "daily_drop"

with DAG(
    dag_id="modelarts_add_samples",
    description="Add files that are not in OBS to a dataset, through the worker",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "dataset_id": Param("ds-images", type="string", description="Image classification dataset."),
        "reference_dir": Param(
            str(REFERENCE_IMAGES),
            type="string",
            minLength=1,
            description="Folder (or s3://<conn_id>@bucket/prefix) of the images to add.",
        ),
    },
    tags=["modelarts", "example"],
    doc_md=__doc__,
) as dag:
    AddSamplesOperator(
        task_id="add_reference_images",
        dataset_id="{{ params.dataset_id }}",
        files=["{{ params.reference_dir }}/*.png"],
    )
