// What the global setups (test/env/setup-*.ts) provide to the tests:
// `inject('postgres')` etc. A suite reads only what its project's setup starts.
import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: { host: string; port: number; user: string; password: string; binDir: string };
    mariadb: { host: string; port: number; user: string; password: string; binDir: string };
    s3: {
      endpoint: string;
      region: string;
      accessKeyId: string;
      secretAccessKey: string;
      bucket: string;
    };
    kube: {
      server: string;
      token: string;
      caFile: string;
      caData: string;
      kubeconfig: string;
      binDir: string;
    };
    opensearch: { url: string };
  }
}
