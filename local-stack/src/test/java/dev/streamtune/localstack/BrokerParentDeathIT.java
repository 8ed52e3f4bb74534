package dev.streamtune.localstack;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** No broker outlives its parent, even a parent killed with SIGKILL (whose shutdown hooks never run). */
class BrokerParentDeathIT {

    @TempDir
    Path workDir;

    @Test
    void brokerExitsWhenItsParentIsKilled() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process parent = new ProcessBuilder(List.of(
                        java,
                        "-cp",
                        System.getProperty("java.class.path"),
                        StartBrokerAndWait.class.getName(),
                        workDir.toString()))
                .redirectErrorStream(true)
                .start();
        long brokerPid;
        try (BufferedReader out =
                new BufferedReader(new InputStreamReader(parent.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            String pidLine = null;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("broker-pid=")) {
                    pidLine = line;
                    break;
                }
            }
            assertThat(pidLine).as("the parent reported its broker's pid").isNotNull();
            brokerPid = Long.parseLong(pidLine.substring("broker-pid=".length()));
            ProcessHandle broker = ProcessHandle.of(brokerPid).orElseThrow();
            assertThat(broker.isAlive()).isTrue();

            parent.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL: no shutdown hook runs

            broker.onExit().get(60, TimeUnit.SECONDS);
            assertThat(broker.isAlive()).isFalse();
        } finally {
            parent.destroyForcibly();
            ProcessHandle.allProcesses()
                    .filter(p -> p.parent().map(pp -> pp.pid() == parent.pid()).orElse(false))
                    .forEach(ProcessHandle::destroyForcibly);
        }
    }

    /** The parent process of the test: starts a broker, reports its pid, then waits to be killed. */
    public static final class StartBrokerAndWait {
        public static void main(String[] args) throws Exception {
            KafkaBroker broker = KafkaBroker.start(Path.of(args[0]));
            System.out.println("broker-pid=" + broker.processHandle().pid());
            System.out.flush();
            Thread.currentThread().join();
        }
    }
}
