// What the global setups (test/env/setup-*.ts) provide to the tests:
// `inject('postgres')` etc. A suite reads only what its project's setup starts.
import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** binDir: psql, pg_dump, pg_restore; version: the server's, e.g. "15.14" */
    postgres: {
      host: string;
      port: number;
      user: string;
      password: string;
      binDir: string;
      version?: string;
    };
    /** binDir: mariadb, mariadb-dump, mysqldump; version: SELECT VERSION() */
    mariadb: {
      host: string;
      port: number;
      user: string;
      password: string;
      binDir: string;
      version?: string;
    };
    s3: {
      endpoint: string;
      region: string;
      accessKeyId: string;
      secretAccessKey: string;
      bucket: string;
    };
    /**
     * token: admin (system:masters); kubeconfig: admin kubeconfig file;
     * binDir: kubectl and helm; version: /version gitVersion; etcd: its URL
     */
    kube: {
      server: string;
      token: string;
      caFile: string;
      caData: string;
      kubeconfig: string;
      binDir: string;
      version?: string;
      etcd?: string;
    };
    /**
     * url: http://127.0.0.1:<port>; version: GET / version.number; nodeUrl
     * (e2e only): the same server as pods reach it, on the node's IP
     */
    opensearch: { url: string; version?: string; nodeUrl?: string };
    /**
     * the e2e node (test/env/node.sh): images built by test/env/images.sh
     * (repository/tag of the product's, the database servers'), and its run
     * directory (logs/ of every component)
     */
    node: {
      images: { repository: string; tag: string; postgresServer: string; mariadbServer: string };
      runDir: string;
    };
    /** a directory for tests' temporary files, removed at teardown (helpers.scratchDir) */
    scratchDir?: string;
  }
}
