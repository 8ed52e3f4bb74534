package dev.streamtune.localstack;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Ports for the broker, the database and the services that the local stack, the tests and the benchmarks start. */
public final class LoopbackPorts {

    private LoopbackPorts() {}

    /**
     * A port free on the loopback interface now, as the kernel picks it. Another process may take it before the caller
     * binds it; the callers bind at once, and a child that fails to bind says so in its log.
     */
    public static int free() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }
}
