const VERSION_PATTERN = /^(\d+)\.(\d+)\.(\d+)$/;
const PYTHON_PATTERN = /^3\.(\d+)$/;

/**
 * An Apache Airflow version that Amazon MWAA runs, with the Python version of its MWAA image.
 *
 * Use the constants for the versions this library was tested against, or `AirflowVersion.of()`
 * for a version MWAA released after this library.
 */
export class AirflowVersion {
  /** Airflow 2.9.2 (Python 3.11). Airflow 2 is end-of-life upstream. */
  public static readonly V2_9_2 = new AirflowVersion('2.9.2', '3.11');
  /** Airflow 2.10.1 (Python 3.11). Airflow 2 is end-of-life upstream. */
  public static readonly V2_10_1 = new AirflowVersion('2.10.1', '3.11');
  /** Airflow 2.10.3 (Python 3.11). Airflow 2 is end-of-life upstream. */
  public static readonly V2_10_3 = new AirflowVersion('2.10.3', '3.11');
  /** Airflow 2.11.0 (Python 3.11): the last Airflow 2, the stepping stone to Airflow 3. */
  public static readonly V2_11_0 = new AirflowVersion('2.11.0', '3.11');
  /** Airflow 3.0.6 (Python 3.12; bundled Amazon provider 9.12.0). */
  public static readonly V3_0_6 = new AirflowVersion('3.0.6', '3.12');
  /** Airflow 3.2.1 (Python 3.12; bundled Amazon provider 9.25.0). */
  public static readonly V3_2_1 = new AirflowVersion('3.2.1', '3.12');
  /** Airflow 3.3.1 (Python 3.12; bundled Amazon provider 9.34.0). */
  public static readonly V3_3_1 = new AirflowVersion('3.3.1', '3.12');

  /** The newest generally available Airflow 3 on MWAA known to this library: the default. */
  public static readonly LATEST = AirflowVersion.V3_3_1;

  /**
   * A version not listed as a constant.
   *
   * @param version the Airflow version, `MAJOR.MINOR.PATCH`, e.g. `3.3.1`
   * @param pythonVersion the Python version of the MWAA image for it, `3.MINOR`
   * @default pythonVersion - 3.12 for Airflow 3, 3.11 for Airflow 2
   */
  public static of(version: string, pythonVersion?: string): AirflowVersion {
    const match = VERSION_PATTERN.exec(version);
    if (!match) {
      throw new Error(`airflowVersion: '${version}' is not an Airflow version; expected MAJOR.MINOR.PATCH, e.g. '3.3.1'`);
    }
    const major = Number(match[1]);
    if (major !== 2 && major !== 3) {
      throw new Error(`airflowVersion: '${version}' is not supported; MWAA runs Airflow 2.x and 3.x`);
    }
    if (major === 2 && Number(match[2]) < 7) {
      throw new Error(`airflowVersion: '${version}' is older than 2.7.2, the first MWAA version whose requirements take a --constraint line`);
    }
    const python = pythonVersion ?? (major === 3 ? '3.12' : '3.11');
    if (!PYTHON_PATTERN.test(python)) {
      throw new Error(`pythonVersion: '${python}' is not a Python version; expected 3.MINOR, e.g. '3.12'`);
    }
    return new AirflowVersion(version, python);
  }

  private constructor(
    /** The Airflow version, e.g. `3.3.1`. */
    public readonly version: string,
    /** The Python version of the MWAA image, e.g. `3.12`. */
    public readonly pythonVersion: string,
  ) {}

  /** The major version: 2 or 3. */
  public get majorVersion(): number {
    return Number(this.version.split('.')[0]);
  }

  /** The Apache Airflow constraints file for this Airflow and Python version. */
  public get constraintsUrl(): string {
    return `https://raw.githubusercontent.com/apache/airflow/constraints-${this.version}/constraints-${this.pythonVersion}.txt`;
  }

  /** The `--constraint` line that MWAA requires at the top of `requirements.txt`. */
  public get constraintLine(): string {
    return `--constraint "${this.constraintsUrl}"`;
  }

  /** Whether this version is at least `other` (compared as versions, not as strings). */
  public isAtLeast(other: AirflowVersion): boolean {
    const a = this.version.split('.').map(Number);
    const b = other.version.split('.').map(Number);
    for (let i = 0; i < 3; i++) {
      if (a[i] !== b[i]) return a[i] > b[i];
    }
    return true;
  }

  public toString(): string {
    return this.version;
  }
}
