package org.elasticsearch.node;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.plugins.MockPluginsService;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginsLoader;
import org.elasticsearch.plugins.PluginsService;
import org.elasticsearch.transport.netty4.Netty4Plugin;

/**
 * SdtriageTestNode is one real Elasticsearch node running inside this JVM:
 * the server jar and the transport-netty4 module from Maven Central, with the
 * module's plugin class taken from the classpath instead of a distribution's
 * modules/ folder. This is the embedded-node pattern of Elastic's MockNode,
 * without the randomized-testing runtime that MockNode drags in.
 *
 * It lives in org.elasticsearch.node because the Node constructor that takes
 * a NodeServiceProvider is package-private.
 *
 * Usage: java -cp CLASSPATH org.elasticsearch.node.SdtriageTestNode STATE_DIR HTTP_PORT TRANSPORT_PORT
 * Runs until SIGTERM or SIGINT, then closes the node cleanly.
 */
public class SdtriageTestNode extends Node {
    SdtriageTestNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
        super(NodeConstruction.prepareConstruction(
            environment,
            // No module or plugin bundles on disk, and no server module layer to export from.
            PluginsLoader.createPluginsLoader(Set.of(), Set.of(), Map.of(), false),
            new NodeServiceProvider() {
                @Override
                PluginsService newPluginService(Environment env, PluginsLoader loader) {
                    return new MockPluginsService(env.settings(), env, plugins);
                }
            },
            true));
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: SdtriageTestNode STATE_DIR HTTP_PORT TRANSPORT_PORT");
            System.exit(2);
        }
        Path state = Path.of(args[0]).toAbsolutePath();
        Files.createDirectories(state.resolve("data"));
        Files.createDirectories(state.resolve("logs"));
        Files.createDirectories(state.resolve("config"));
        LogConfigurator.configureESLogging();
        LogConfigurator.configureWithoutConfig(Settings.EMPTY);

        Settings settings = Settings.builder()
            .put("cluster.name", "sdtriage-test")
            .put("node.name", "sdtriage-es")
            .put("path.home", state.toString())
            .put("path.data", state.resolve("data").toString())
            .put("path.logs", state.resolve("logs").toString())
            .put("network.host", "127.0.0.1")
            .put("http.port", args[1])
            .put("transport.port", args[2])
            .put("discovery.type", "single-node")
            // A test node on a shared disk must not turn read-only at 95% full.
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            // Tests and benchmarks remove their own indices by pattern.
            .put("action.destructive_requires_name", false)
            .build();
        Environment environment = InternalSettingsPreparer.prepareEnvironment(
            settings, Map.of(), state.resolve("config"), () -> "sdtriage-es");

        Node node = new SdtriageTestNode(environment, List.of(Netty4Plugin.class));
        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                closed.countDown();
            }
        }, "sdtriage-es-shutdown"));
        node.start();
        System.out.println("sdtriage: elasticsearch listening on 127.0.0.1:" + args[1]);
        closed.await();
    }
}
