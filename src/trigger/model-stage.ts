/**
 * A pipeline's deployment stage name, as the trigger's stage rule lists it and the handler accepts it in
 * `ModelLifeCycle.Stage`: lowercase letters and digits in hyphen-separated words (e.g. `dev`, `pre-prod`). A subset of
 * SageMaker's own pattern for the field, `[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`
 * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ModelLifeCycle.html). Shared by the construct
 * (synth-time check) and the handler.
 */
export const MODEL_STAGE_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** SageMaker's pattern and length for `ModelLifeCycle.Stage` and `StageStatus` (API_ModelLifeCycle, as above). */
export const LIFECYCLE_VALUE_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
