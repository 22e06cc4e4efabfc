import java.io.File;
import java.lang.management.ManagementFactory;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.nodemanager.NodeManager;
import org.apache.hadoop.yarn.server.resourcemanager.ResourceManager;

/**
 * A Hadoop cluster on loopback, for tests and for trying the yarn target without a cluster:
 * HDFS (a NameNode and DataNodes) and a YARN ResourceManager in this JVM, and each YARN
 * NodeManager in a JVM of its own, launching real container processes (so a NodeManager can be
 * killed like a lost node).
 *
 * Usage: MiniHadoop cluster <dir> [--nodemanagers N] [--datanodes N] [--nm-memory-mb M] [--nm-vcores V]
 *        MiniHadoop nodemanager <dir> <i>      (started by the cluster, one per NodeManager)
 *
 * Writes the client configuration (core-site.xml, hdfs-site.xml, yarn-site.xml) to <dir>/conf
 * and, once every service is up and every NodeManager has registered, <dir>/cluster.json with
 * the addresses and the NodeManagers' process ids. A NodeManager that dies is replaced by a new
 * one (new ports, cluster.json rewritten). SIGTERM stops everything.
 */
public final class MiniHadoop {
  private static volatile boolean stopping = false;
  public static void main(String[] args) {
    try {
      if (args.length >= 3 && args[0].equals("nodemanager")) {
        nodeManager(new File(args[1]).getAbsoluteFile(), Integer.parseInt(args[2]));
      } else if (args.length >= 2 && args[0].equals("cluster")) {
        cluster(args);
      } else {
        System.err.println("usage: MiniHadoop cluster <dir> [--nodemanagers N] [--datanodes N] [--nm-memory-mb M] [--nm-vcores V]");
        System.exit(2);
      }
    } catch (Throwable e) {
      e.printStackTrace();
      System.err.println("mini hadoop failed to start: " + e);
      System.exit(3);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static void cluster(String[] args) throws Exception {
    File dir = new File(args[1]).getAbsoluteFile();
    int nodeManagers = 2, dataNodes = 2, nmMemory = 4096, nmVcores = 4;
    for (int i = 2; i + 1 < args.length; i += 2) {
      int value = Integer.parseInt(args[i + 1]);
      switch (args[i]) {
        case "--nodemanagers": nodeManagers = value; break;
        case "--datanodes": dataNodes = value; break;
        case "--nm-memory-mb": nmMemory = value; break;
        case "--nm-vcores": nmVcores = value; break;
        default: throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    File conf = new File(dir, "conf");
    conf.mkdirs();
    new File(dir, "cluster.json").delete();
    String user = System.getProperty("user.name");

    Configuration hdfsConf = new Configuration();
    hdfsConf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, new File(dir, "hdfs").getPath());
    hdfsConf.set("dfs.replication", "1");
    hdfsConf.set("dfs.permissions.enabled", "false");
    hdfsConf.set("dfs.webhdfs.enabled", "true");
    hdfsConf.set("dfs.datanode.hostname", "127.0.0.1");
    hdfsConf.set("hadoop.proxyuser." + user + ".hosts", "*");
    hdfsConf.set("hadoop.proxyuser." + user + ".groups", "*");
    MiniDFSCluster dfs = new MiniDFSCluster.Builder(hdfsConf)
        .numDataNodes(dataNodes)
        .nameNodePort(freePort())
        .nameNodeHttpPort(freePort())
        .format(true)
        .build();
    dfs.waitActive();
    FileSystem fs = dfs.getFileSystem();
    String defaultFs = "hdfs://127.0.0.1:" + dfs.getNameNodePort();
    for (String p : new String[] {"/tmp", "/tmp/logs", "/user", "/user/" + user}) {
      fs.mkdirs(new Path(p));
      fs.setPermission(new Path(p), new FsPermission((short) 01777));
    }
    int nnHttp = dfs.getNameNode().getHttpAddress().getPort();

    Configuration core = new Configuration(false);
    core.set("fs.defaultFS", defaultFs);
    write(core, new File(conf, "core-site.xml"));
    Configuration hdfsSite = new Configuration(false);
    hdfsSite.set("dfs.replication", "1");
    hdfsSite.set("dfs.client.use.datanode.hostname", "true");
    hdfsSite.set("dfs.namenode.http-address", "127.0.0.1:" + nnHttp);
    write(hdfsSite, new File(conf, "hdfs-site.xml"));

    Configuration yarnSite = new Configuration(false);
    yarnSite.set(YarnConfiguration.RM_HOSTNAME, "127.0.0.1");
    yarnSite.set(YarnConfiguration.RM_ADDRESS, "127.0.0.1:" + freePort());
    yarnSite.set(YarnConfiguration.RM_SCHEDULER_ADDRESS, "127.0.0.1:" + freePort());
    yarnSite.set(YarnConfiguration.RM_RESOURCE_TRACKER_ADDRESS, "127.0.0.1:" + freePort());
    yarnSite.set(YarnConfiguration.RM_ADMIN_ADDRESS, "127.0.0.1:" + freePort());
    yarnSite.set(YarnConfiguration.RM_WEBAPP_ADDRESS, "127.0.0.1:" + freePort());
    yarnSite.setBoolean(YarnConfiguration.LOG_AGGREGATION_ENABLED, true);
    yarnSite.set(YarnConfiguration.NM_REMOTE_APP_LOG_DIR, "/tmp/logs");
    yarnSite.setInt(YarnConfiguration.RM_SCHEDULER_MINIMUM_ALLOCATION_MB, 512);
    yarnSite.setInt(YarnConfiguration.RM_SCHEDULER_MAXIMUM_ALLOCATION_MB, nmMemory);
    yarnSite.setInt(YarnConfiguration.NM_PMEM_MB, nmMemory);
    yarnSite.setInt(YarnConfiguration.NM_VCORES, nmVcores);
    yarnSite.setBoolean(YarnConfiguration.NM_PMEM_CHECK_ENABLED, false);
    yarnSite.setBoolean(YarnConfiguration.NM_VMEM_CHECK_ENABLED, false);
    yarnSite.setInt(YarnConfiguration.RM_AM_MAX_ATTEMPTS, 1);
    // A NodeManager that stops heartbeating is declared lost after this long (10 minutes by default).
    yarnSite.setLong(YarnConfiguration.RM_NM_EXPIRY_INTERVAL_MS, 20_000);
    yarnSite.set("yarn.scheduler.capacity.root.queues", "default");
    yarnSite.set("yarn.scheduler.capacity.root.default.capacity", "100");
    yarnSite.set("yarn.scheduler.capacity.root.default.maximum-capacity", "100");
    yarnSite.set("yarn.scheduler.capacity.maximum-am-resource-percent", "0.5");
    write(yarnSite, new File(conf, "yarn-site.xml"));

    YarnConfiguration rmConf = new YarnConfiguration();
    rmConf.addResource(new Path(new File(conf, "core-site.xml").toURI()));
    rmConf.addResource(new Path(new File(conf, "yarn-site.xml").toURI()));
    ResourceManager rm = new ResourceManager();
    rm.init(rmConf);
    rm.start();

    List<Process> nms = new ArrayList<>();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      synchronized (nms) {
        stopping = true;
        for (Process p : nms) p.destroyForcibly();
      }
      rm.stop();
      dfs.shutdown();
    }));
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> jvmArgs = ManagementFactory.getRuntimeMXBean().getInputArguments();
    for (int i = 0; i < nodeManagers; i++) nms.add(startNodeManager(java, jvmArgs, dir, i));
    // Ready when every NodeManager has registered with the ResourceManager and written its node id.
    long deadline = System.currentTimeMillis() + 180_000;
    while (rm.getRMContext().getRMNodes().size() < nodeManagers || !allIdsWritten(dir, nodeManagers)) {
      for (int i = 0; i < nms.size(); i++) {
        if (!nms.get(i).isAlive()) throw new IllegalStateException("nodemanager " + i + " exited; see " + new File(dir, "nodemanager-" + i + ".log"));
      }
      if (System.currentTimeMillis() > deadline) throw new IllegalStateException("the NodeManagers did not register within 180 s");
      Thread.sleep(200);
    }
    String head = "{\n"
        + "  \"pid\": " + ProcessHandle.current().pid() + ",\n"
        + "  \"conf\": \"" + conf.getPath() + "\",\n"
        + "  \"defaultFS\": \"" + defaultFs + "\",\n"
        + "  \"webhdfs\": \"http://127.0.0.1:" + nnHttp + "\",\n"
        + "  \"resourceManager\": \"http://" + yarnSite.get(YarnConfiguration.RM_WEBAPP_ADDRESS) + "\",\n";
    writeClusterJson(dir, head, nms);
    System.out.println("mini hadoop ready: " + dir);
    // A NodeManager that dies (a test kills one like a lost node) is replaced by a new one a few
    // seconds later, on new ports, as a cluster replaces a lost machine; cluster.json follows.
    while (true) {
      Thread.sleep(1000);
      for (int i = 0; i < nms.size(); i++) {
        if (nms.get(i).isAlive()) continue;
        Thread.sleep(3000);
        new File(dir, "nodemanager-" + i + ".id").delete();
        synchronized (nms) {
          if (stopping) return;
          nms.set(i, startNodeManager(java, jvmArgs, dir, i));
        }
        long until = System.currentTimeMillis() + 120_000;
        while (!new File(dir, "nodemanager-" + i + ".id").exists() && nms.get(i).isAlive() && System.currentTimeMillis() < until) Thread.sleep(200);
        writeClusterJson(dir, head, nms);
      }
    }
  }

  private static boolean allIdsWritten(File dir, int nodeManagers) {
    for (int i = 0; i < nodeManagers; i++) if (!new File(dir, "nodemanager-" + i + ".id").exists()) return false;
    return true;
  }

  private static Process startNodeManager(String java, List<String> jvmArgs, File dir, int i) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    for (String a : jvmArgs) if (a.startsWith("--add-opens") || a.startsWith("-Dlog4j")) cmd.add(a);
    cmd.add("-Xmx384m");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("MiniHadoop");
    cmd.add("nodemanager");
    cmd.add(dir.getPath());
    cmd.add(String.valueOf(i));
    File log = new File(dir, "nodemanager-" + i + ".log");
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log)).start();
  }

  private static void writeClusterJson(File dir, String head, List<Process> nms) throws IOException {
    List<String> nodes = new ArrayList<>();
    for (int i = 0; i < nms.size(); i++) {
      File id = new File(dir, "nodemanager-" + i + ".id");
      String nodeId = id.exists() ? new String(Files.readAllBytes(id.toPath())).trim() : "";
      nodes.add("{\"pid\": " + nms.get(i).pid() + ", \"nodeId\": \"" + nodeId + "\"}");
    }
    File tmp = new File(dir, "cluster.json.tmp");
    Files.writeString(tmp.toPath(), head + "  \"nodeManagers\": " + nodes + "\n}\n");
    Files.move(tmp.toPath(), new File(dir, "cluster.json").toPath(), StandardCopyOption.ATOMIC_MOVE);
  }

  private static void nodeManager(File dir, int i) throws Exception {
    File conf = new File(dir, "conf");
    File base = new File(dir, "nodemanager-" + i);
    YarnConfiguration c = new YarnConfiguration();
    c.addResource(new Path(new File(conf, "core-site.xml").toURI()));
    c.addResource(new Path(new File(conf, "yarn-site.xml").toURI()));
    c.set(YarnConfiguration.NM_ADDRESS, "127.0.0.1:" + freePort());
    c.set(YarnConfiguration.NM_LOCALIZER_ADDRESS, "127.0.0.1:" + freePort());
    c.set(YarnConfiguration.NM_WEBAPP_ADDRESS, "127.0.0.1:" + freePort());
    c.set(YarnConfiguration.NM_COLLECTOR_SERVICE_ADDRESS, "127.0.0.1:" + freePort());
    c.set(YarnConfiguration.NM_LOCAL_DIRS, new File(base, "local").getPath());
    c.set(YarnConfiguration.NM_LOG_DIRS, new File(base, "logs").getPath());
    c.set(YarnConfiguration.NM_RECOVERY_DIR, new File(base, "recovery").getPath());
    // Containers run the node's own programs: java from JAVA_HOME and python3 from the PATH the
    // cluster was started with (the cluster's Python, not the submitter's). AWS credentials in the
    // cluster's environment reach containers as an instance profile's would (S3A reads them there).
    c.set(YarnConfiguration.NM_ENV_WHITELIST, "JAVA_HOME,PATH,LANG,TZ,AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY,AWS_SESSION_TOKEN,AWS_REGION");
    c.set(YarnConfiguration.NM_ADMIN_USER_ENV, "PATH=" + System.getenv("PATH"));
    // Two NodeManagers on one host: each needs its own name in the cluster.
    c.setBoolean(YarnConfiguration.RM_SCHEDULER_INCLUDE_PORT_IN_NODE_NAME, true);
    // The disk checker would mark a nearly full disk bad and the node unhealthy.
    c.setFloat(YarnConfiguration.NM_MAX_PER_DISK_UTILIZATION_PERCENTAGE, 99.9f);
    NodeManager nm = new NodeManager();
    Runtime.getRuntime().addShutdownHook(new Thread(nm::stop));
    // A NodeManager never outlives its cluster: when the cluster's JVM is gone, so is this one.
    ProcessHandle parent = ProcessHandle.current().parent().orElseThrow();
    Thread watch = new Thread(() -> {
      while (parent.isAlive()) {
        try {
          Thread.sleep(1000);
        } catch (InterruptedException e) {
          return;
        }
      }
      Runtime.getRuntime().halt(0);
    });
    watch.setDaemon(true);
    watch.start();
    nm.init(c);
    nm.start();
    String nodeId = nm.getNMContext().getNodeId().toString();
    File tmp = new File(dir, "nodemanager-" + i + ".id.tmp");
    Files.writeString(tmp.toPath(), nodeId + "\n");
    Files.move(tmp.toPath(), new File(dir, "nodemanager-" + i + ".id").toPath(), StandardCopyOption.ATOMIC_MOVE);
    Thread.currentThread().join();
  }

  private static void write(Configuration c, File f) throws Exception {
    try (OutputStream out = new FileOutputStream(f)) {
      c.writeXml(out);
    }
  }

  private MiniHadoop() {}
}
