import io.github.cdkmwaamlops.AirflowVersion;
import io.github.cdkmwaamlops.DagTrigger;
import io.github.cdkmwaamlops.EnvironmentClass;
import io.github.cdkmwaamlops.PipelineSource;
import java.nio.file.Files;
import java.nio.file.Path;

/** What jsii shows Java users beyond the example: the static constants and the value of version-like classes. */
public class JsiiSurface {
    public static void main(final String[] args) {
        check("DagTrigger.METRIC_NAMESPACE", DagTrigger.METRIC_NAMESPACE, "CdkMwaaMlops/DagTrigger");
        check("the starter's Dockerfile", Files.isRegularFile(Path.of(PipelineSource.STARTER_REPOSITORY_DIRECTORY, "Dockerfile")), true);
        check("AirflowVersion.V3_3_1", String.valueOf(AirflowVersion.V3_3_1), "3.3.1");
        check("EnvironmentClass.MW1_SMALL", "" + EnvironmentClass.MW1_SMALL, "mw1.small");
        System.out.println("java: jsii surface ok");
    }

    private static void check(final String what, final Object actual, final Object expected) {
        if (!expected.equals(actual)) {
            throw new AssertionError(what + ": expected " + expected + ", got " + actual);
        }
    }
}
