package org.neotrack.launcher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;

/**
 * Runs a Neo4j Community server with a Bolt connector until the process is asked to stop.
 *
 * <p>Arguments (all {@code --key=value}): {@code home} (the server's home: data, logs and transaction
 * logs live under it), {@code host}, {@code port}, {@code pagecache} (bytes), and optionally {@code
 * password}: when given, authentication is on and user {@code neo4j} gets that password. A SIGTERM
 * (what {@code neotrack db stop} sends) runs the shutdown hook, which checkpoints and closes the store.
 * The line {@code NEOTRACK READY} on stdout tells the Python side that the server accepts Bolt.
 */
public final class Launcher {
  private Launcher() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = parse(args);
    Path home = Path.of(require(opts, "home")).toAbsolutePath();
    String host = opts.getOrDefault("host", "127.0.0.1");
    int port = Integer.parseInt(opts.getOrDefault("port", "7687"));
    long pagecache = Long.parseLong(opts.getOrDefault("pagecache", String.valueOf(512L << 20)));
    String password = System.getenv("NEOTRACK_NEO4J_INITIAL_PASSWORD");
    boolean auth = password != null && !password.isEmpty();
    if (!auth && !isLoopback(host)) {
      System.err.println("NEOTRACK ERROR: binding to " + host + " requires a password");
      System.exit(2);
    }
    Files.createDirectories(home);

    DatabaseManagementService dbms =
        new DatabaseManagementServiceBuilder(home)
            .setConfig(BoltConnector.enabled, true)
            .setConfig(BoltConnector.listen_address, new SocketAddress(host, port))
            .setConfig(HttpConnector.enabled, false)
            // Stop in about a second instead of ten: the stores are checkpointed and closed before
            // Bolt's worker pools wait for idle connections that a stopping server no longer serves.
            .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time, Duration.ofMillis(200))
            .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time, Duration.ofMillis(200))
            .setConfig(BoltConnectorInternalSettings.enable_local_connector, false)
            .setConfig(GraphDatabaseSettings.auth_enabled, auth)
            .setConfig(GraphDatabaseSettings.pagecache_memory, pagecache)
            // Transaction logs serve backups and clusters, neither of which a local server has;
            // Neo4j's default keeps two days of them, 14 GB after a day of benchmarks.
            .setConfig(GraphDatabaseSettings.keep_logical_logs, "256M size")
            .build();

    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  System.out.println("NEOTRACK STOPPING");
                  dbms.shutdown();
                  System.out.println("NEOTRACK STOPPED");
                  stopped.countDown();
                }));

    if (auth) {
      dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME)
          .executeTransactionally(
              "ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password));
    }
    System.out.println("NEOTRACK READY bolt://" + host + ":" + port);
    System.out.flush();
    stopped.await();
  }

  private static boolean isLoopback(String host) {
    return host.equals("localhost") || host.startsWith("127.") || host.equals("::1");
  }

  private static String require(Map<String, String> opts, String key) {
    String value = opts.get(key);
    if (value == null) {
      System.err.println("NEOTRACK ERROR: missing --" + key + "=...");
      System.exit(2);
    }
    return value;
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> opts = new HashMap<>();
    for (String arg : args) {
      if (!arg.startsWith("--") || !arg.contains("=")) {
        System.err.println("NEOTRACK ERROR: arguments are --key=value, got " + arg);
        System.exit(2);
      }
      int eq = arg.indexOf('=');
      opts.put(arg.substring(2, eq), arg.substring(eq + 1));
    }
    return opts;
  }
}
