package dev.streamtune.localstack.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A certificate authority made for one test and a broker key it signed, made with the JDK's own keytool: the
 * broker's PKCS12 key store (its key, its certificate naming 127.0.0.1 and localhost, the CA's) and a PKCS12 trust
 * store holding the CA's certificate alone, for clients. Nothing of it is checked in, and it expires in two days.
 */
public record ThrowawayTls(Path keyStore, Path trustStore, String storePassword) {

    public static ThrowawayTls create(Path dir) throws IOException, InterruptedException {
        String password = UUID.randomUUID().toString();
        Path ca = dir.resolve("ca.p12");
        Path caCertificate = dir.resolve("ca.pem");
        Path keyStore = dir.resolve("broker.p12");
        Path request = dir.resolve("broker.csr");
        Path certificate = dir.resolve("broker.pem");
        Path trustStore = dir.resolve("truststore.p12");

        keytool(
                password,
                "-genkeypair",
                "-alias",
                "ca",
                "-keystore",
                ca,
                "-dname",
                "CN=StreamTune throwaway test CA",
                "-ext",
                "bc:c");
        keytool(password, "-exportcert", "-rfc", "-alias", "ca", "-keystore", ca, "-file", caCertificate);
        keytool(password, "-genkeypair", "-alias", "broker", "-keystore", keyStore, "-dname", "CN=localhost");
        keytool(password, "-certreq", "-alias", "broker", "-keystore", keyStore, "-file", request);
        keytool(
                password,
                "-gencert",
                "-rfc",
                "-alias",
                "ca",
                "-keystore",
                ca,
                "-infile",
                request,
                "-outfile",
                certificate,
                "-ext",
                "SAN=ip:127.0.0.1,dns:localhost",
                "-ext",
                "eku=serverAuth,clientAuth");
        // The chain: the CA first, so that keytool accepts the signed certificate as the key's reply.
        keytool(password, "-importcert", "-noprompt", "-alias", "ca", "-keystore", keyStore, "-file", caCertificate);
        keytool(password, "-importcert", "-alias", "broker", "-keystore", keyStore, "-file", certificate);
        keytool(password, "-importcert", "-noprompt", "-alias", "ca", "-keystore", trustStore, "-file", caCertificate);
        return new ThrowawayTls(keyStore, trustStore, password);
    }

    private static void keytool(String password, Object... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        for (Object argument : arguments) {
            command.add(argument.toString());
        }
        boolean makesKey = command.contains("-genkeypair");
        command.addAll(List.of("-storetype", "PKCS12", "-storepass", password));
        if (makesKey) {
            // EC keys: generated in milliseconds where RSA keys take a slow machine seconds.
            command.addAll(List.of("-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2"));
        }
        if (command.contains("-gencert")) {
            command.addAll(List.of("-validity", "2"));
        }
        Process keytool = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!keytool.waitFor(60, TimeUnit.SECONDS) || keytool.exitValue() != 0) {
            throw new IllegalStateException("keytool " + arguments[0] + " failed: " + output);
        }
    }
}
