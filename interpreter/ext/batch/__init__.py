"""Batch evaluation on Dask: ``guideline batch`` (docs/batch.md). Installed with the ``[batch]`` extra.

- ``rows``: one row to one record (``evaluate_line``, ``evaluate_fields``), the tally of records;
- ``parts``: partition planning, reading a partition, writing one part file (``process_partition``);
- ``engine``: the Dask run (``run_batch``), the summary;
- ``arrow``: the partition function over Arrow record batches, for Spark's ``mapInArrow``;
- ``progress``: a tqdm bar on a terminal, plain lines otherwise.

Nothing in the core imports this package; ``rows`` needs neither Dask nor Arrow.
"""
