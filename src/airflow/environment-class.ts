/**
 * The size of an MWAA environment, with the worker, scheduler and webserver limits MWAA enforces for it.
 */
export class EnvironmentClass {
  /** One combined scheduler and worker (about 3 concurrent tasks), no autoscaling: for development. */
  public static readonly MW1_MICRO = new EnvironmentClass('mw1.micro', 1, 1, 1);
  /** Small: up to about 5 concurrent tasks per worker. */
  public static readonly MW1_SMALL = new EnvironmentClass('mw1.small', 25, 5, 5);
  /** Medium: up to about 10 concurrent tasks per worker. */
  public static readonly MW1_MEDIUM = new EnvironmentClass('mw1.medium', 25, 5, 5);
  /** Large: up to about 20 concurrent tasks per worker. */
  public static readonly MW1_LARGE = new EnvironmentClass('mw1.large', 25, 5, 5);
  /** Extra large: up to about 40 concurrent tasks per worker. */
  public static readonly MW1_XLARGE = new EnvironmentClass('mw1.xlarge', 25, 5, 5);
  /** Double extra large: up to about 80 concurrent tasks per worker. */
  public static readonly MW1_2XLARGE = new EnvironmentClass('mw1.2xlarge', 25, 5, 5);

  private constructor(
    /** The MWAA name of the class, e.g. `mw1.small`. */
    public readonly name: string,
    /** The most workers MWAA lets this class run (the default service quota). */
    public readonly maxWorkersLimit: number,
    /** The most schedulers this class takes. */
    public readonly maxSchedulersLimit: number,
    /** The most webservers this class takes. */
    public readonly maxWebserversLimit: number,
  ) {}

  /** The fewest schedulers this class takes (mw1.micro: 1, others: 2). */
  public get minSchedulersLimit(): number {
    return this.isMicro ? 1 : 2;
  }

  /** The fewest webservers this class takes (mw1.micro: 1, others: 2). */
  public get minWebserversLimit(): number {
    return this.isMicro ? 1 : 2;
  }

  /** Whether this is mw1.micro, which has a single combined scheduler and worker. */
  public get isMicro(): boolean {
    return this.name === 'mw1.micro';
  }

  public toString(): string {
    return this.name;
  }
}
