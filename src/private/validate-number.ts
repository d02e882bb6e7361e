import { Token } from 'aws-cdk-lib';

/** What a numeric prop allows. */
export interface NumberRule {
  readonly min?: number;
  readonly max?: number;
  readonly wholeNumber?: boolean;
  /** The unit the value is counted in (`seconds`), when the prop is a Duration or Size. */
  readonly unit?: string;
  /** Where the limits come from, when that helps the reader (`mw1.micro's limits`). */
  readonly note?: string;
}

/**
 * Throws `<prop>: <value> is not allowed; use <what is allowed>` unless the value is a finite number within the rule
 * (bounds inclusive). Tokens are left to deploy time.
 */
export function validateNumber(prop: string, value: number | undefined, rule: NumberRule): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  const { min, max, wholeNumber, unit, note } = rule;
  const outside = (min !== undefined && value < min) || (max !== undefined && value > max);
  if (Number.isFinite(value) && !outside && (!wholeNumber || Number.isInteger(value))) return;
  const units = unit ? ` ${unit}` : '';
  const bounds = min !== undefined && max !== undefined ? ` from ${min} to ${max}${units}`
    : min !== undefined ? ` of at least ${min}${units}`
      : max !== undefined ? ` of at most ${max}${units}` : units && ` of${units}`;
  const kind = wholeNumber ? 'a whole number' : bounds ? 'a number' : 'a finite number';
  throw new Error(`${prop}: ${value}${units} is not allowed; use ${kind}${bounds}${note ? ` (${note})` : ''}`);
}
