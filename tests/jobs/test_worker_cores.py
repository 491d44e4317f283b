"""A worker command shares NLP_PROCESSES among its processes, so its jobs running at once
never start more pre-highlighting processes than it was given."""

from __future__ import annotations

import pytest

from annotator.cli.worker import nlp_processes_each
from tests.jobs.support import Project


@pytest.mark.parametrize(("budget", "workers", "each"), [(2, 1, 2), (2, 2, 1), (1, 4, 1), (8, 2, 4), (3, 2, 1)])
def test_each_job_gets_its_share_of_the_pre_highlighting_processes(budget, workers, each):
    assert nlp_processes_each({"NLP_PROCESSES": budget}, workers) == each


def test_a_worker_of_two_processes_on_two_cores_runs_one_pre_highlighting_process_per_job(tmp_path):
    project = Project(tmp_path, "sqlite")
    project.env["ANNOTATOR_NLP_PROCESSES"] = "2"  # the default on two cores
    try:
        worker = project.start_worker(workers=2)
        job = project.wait(project.queue_import({"one.txt": "Nvidia sold 10 H100 chips."}))
        assert job.state == "done", job.message
    finally:
        project.close()
    _, err = worker.communicate(timeout=10)
    assert "2 process(es)" in err and "1 pre-highlighting process(es) per job" in err, err
