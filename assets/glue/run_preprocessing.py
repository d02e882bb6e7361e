"""The script of the pipeline's Glue job.

It runs the `preprocess` module that the DAG run passes in `--extra-py-files`: the copy of
`preprocessing/preprocess.py` the build pipeline staged for the commit of the run's model image. So one Glue job
serves every commit, and a run always preprocesses its data with the code of the model it trains. Glue puts
`--extra-py-files` on the Python path; the arguments (`--input_uri`, `--output_uri`, ...) pass through.
"""

import sys

import preprocess

if __name__ == "__main__":
    preprocess.main(sys.argv[1:])
