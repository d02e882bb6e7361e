/**
 * Airflow's dag_id characters, at most 50 of them: MWAA's InvokeRestApi limits `Path` to 64 characters and the
 * trigger calls `/dags/{dag_id}/dagRuns`. Shared by the construct (synth-time check) and the handler.
 */
export const DAG_ID_PATTERN = /^[A-Za-z0-9_.-]{1,50}$/;
