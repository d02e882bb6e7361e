import { Token } from 'aws-cdk-lib';
import { validateNumber } from '../../private/validate-number';
import type { AirflowEnvironmentProps } from '../airflow-environment';
import { EnvironmentClass } from '../environment-class';

const NAME_PATTERN = /^[a-zA-Z][0-9a-zA-Z_-]*$/;
const MAINTENANCE_WINDOW_PATTERN = /^(MON|TUE|WED|THU|FRI|SAT|SUN):([01]\d|2[0-3]):(00|30)$/;

/** Throws unless `name` is a valid MWAA environment name (tokens are checked at deploy time). */
export function validateEnvironmentName(name: string): void {
  if (Token.isUnresolved(name)) return;
  if (name.length < 1 || name.length > 80) {
    throw new Error(`environmentName: '${name}' is ${name.length} characters long; MWAA allows 1 to 80`);
  }
  if (!NAME_PATTERN.test(name)) {
    throw new Error(`environmentName: '${name}' is not allowed; it must start with a letter and hold only letters, digits, '-' and '_'`);
  }
}

/** Throws unless the window is `DAY:HH:MM` in UTC with minutes 00 or 30, as MWAA requires. */
export function validateMaintenanceWindow(window: string | undefined): void {
  if (window === undefined || Token.isUnresolved(window)) return;
  if (!MAINTENANCE_WINDOW_PATTERN.test(window)) {
    throw new Error(`weeklyMaintenanceWindowStart: '${window}' is not DAY:HH:MM (UTC, DAY one of MON..SUN, MM 00 or 30), e.g. 'SUN:03:00'`);
  }
}

function checkRange(prop: string, value: number | undefined, min: number, max: number, cls: EnvironmentClass): void {
  validateNumber(prop, value, { min, max, wholeNumber: true, note: `the limits of ${cls.name}` });
}

/** The capacity settings of an environment, as given in the props. */
type Capacity = Pick<AirflowEnvironmentProps, 'minWorkers' | 'maxWorkers' | 'schedulers' | 'minWebservers' | 'maxWebservers'>;

/** Throws when a capacity setting is outside what MWAA allows for the class, or a minimum exceeds its maximum. */
export function validateCapacity(cls: EnvironmentClass, c: Capacity): void {
  checkRange('minWorkers', c.minWorkers, 1, cls.maxWorkersLimit, cls);
  checkRange('maxWorkers', c.maxWorkers, 1, cls.maxWorkersLimit, cls);
  checkRange('schedulers', c.schedulers, cls.minSchedulersLimit, cls.maxSchedulersLimit, cls);
  checkRange('minWebservers', c.minWebservers, cls.minWebserversLimit, cls.maxWebserversLimit, cls);
  checkRange('maxWebservers', c.maxWebservers, cls.minWebserversLimit, cls.maxWebserversLimit, cls);
  const pair = (minProp: string, min: number | undefined, maxProp: string, max: number | undefined) => {
    if (min === undefined || max === undefined || Token.isUnresolved(min) || Token.isUnresolved(max)) return;
    if (min > max) {
      throw new Error(`${minProp} (${min}) is greater than ${maxProp} (${max}); ${minProp} must be at most ${maxProp}`);
    }
  };
  pair('minWorkers', c.minWorkers, 'maxWorkers', c.maxWorkers);
  pair('minWebservers', c.minWebservers, 'maxWebservers', c.maxWebservers);
}

/** Throws when a requirements line is empty, multi-line, or tries to set its own constraints file. */
export function validateRequirements(requirements: string[]): void {
  for (const line of requirements) {
    const trimmed = line.trim();
    if (trimmed === '' || /[\r\n]/.test(line)) {
      throw new Error(`requirements: '${line}' is not one requirement; give one non-empty pip requirement per entry`);
    }
    if (/^(-c|--constraint)\b/.test(trimmed)) {
      throw new Error(`requirements: '${line}' sets a constraints file; the construct writes the --constraint line for the chosen airflowVersion itself`);
    }
  }
}
