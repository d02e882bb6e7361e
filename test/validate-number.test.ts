import { Lazy } from 'aws-cdk-lib';
import { validateNumber } from '../src/private/validate-number';

describe('validateNumber names the prop, the value and what is allowed', () => {
  test.each<[number, Parameters<typeof validateNumber>[2], string]>([
    [0, { min: 1, max: 16, wholeNumber: true }, 'p: 0 is not allowed; use a whole number from 1 to 16'],
    [2.5, { min: 1, max: 16, wholeNumber: true }, 'p: 2.5 is not allowed; use a whole number from 1 to 16'],
    [1.5, { min: 0, max: 1, note: 'auc is a fraction' }, 'p: 1.5 is not allowed; use a number from 0 to 1 (auc is a fraction)'],
    [7200, { min: 0, max: 3600, unit: 'seconds' }, 'p: 7200 seconds is not allowed; use a number from 0 to 3600 seconds'],
    [0, { min: 1, wholeNumber: true }, 'p: 0 is not allowed; use a whole number of at least 1'],
    [11, { max: 10 }, 'p: 11 is not allowed; use a number of at most 10'],
    [0.5, { wholeNumber: true }, 'p: 0.5 is not allowed; use a whole number'],
    [NaN, {}, 'p: NaN is not allowed; use a finite number'],
    [Infinity, { min: 1 }, 'p: Infinity is not allowed; use a number of at least 1'],
  ])('%p with %j', (value, rule, message) => {
    expect(() => validateNumber('p', value, rule)).toThrow(new Error(message));
  });

  test('accepts the bounds themselves, and leaves undefined and tokens alone', () => {
    expect(() => validateNumber('p', 1, { min: 1, max: 16, wholeNumber: true })).not.toThrow();
    expect(() => validateNumber('p', 16, { min: 1, max: 16, wholeNumber: true })).not.toThrow();
    expect(() => validateNumber('p', 0.05, { min: 0.05, max: 0.95 })).not.toThrow();
    expect(() => validateNumber('p', undefined, { min: 1 })).not.toThrow();
    expect(() => validateNumber('p', Lazy.number({ produce: () => 0 }), { min: 1 })).not.toThrow();
  });
});
