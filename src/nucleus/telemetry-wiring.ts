// Telemetry in the nucleus (issue 10): samples the components the lifecycle manager runs (through
// their cgroups, or the nucleus's process tree), publishes each sample on
// `$local/greengrass/telemetry` through the local broker, writes it to <root>/telemetry/latest.json,
// feeds PutComponentMetric into the aggregation [IPC-66], and publishes the aggregation to the
// cloud on the telemetry topic when a cloud connection exists [CL-80]. Settings: CF-43.
import type { ConfigStore, JsonObject } from '../config/index.js';
import { METRIC_UNITS } from '../ipc/index.js';
import type { NucleusIpc } from './ipc-wiring.js';
import type { CgroupController, LifecycleManager } from '../lifecycle/index.js';
import {
  LOCAL_TELEMETRY_TOPIC,
  parseTelemetrySettings,
  TelemetryAgent,
  TelemetrySampler,
  telemetryTopic,
  type ComponentInfo,
} from '../telemetry/index.js';
import type { CloudWiring } from './cloud-wiring.js';

export interface TelemetryWiringInput {
  telemetryDir: string;
  store: ConfigStore;
  nucleusName: string;
  manager: LifecycleManager;
  resources: CgroupController;
  ipc: NucleusIpc;
  cloud: CloudWiring | undefined;
  log: (msg: string) => void;
}

export interface TelemetryWiring {
  agent: TelemetryAgent;
  stop(): Promise<void>;
}

const ciGet = (m: unknown, key: string): unknown => {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return undefined;
  const k = Object.keys(m).find((x) => x.toLowerCase() === key.toLowerCase());
  return k === undefined ? undefined : (m as JsonObject)[k];
};

export async function startTelemetry(input: TelemetryWiringInput): Promise<TelemetryWiring> {
  const { store, manager, ipc, cloud } = input;
  const settingsNode = () =>
    ciGet(ciGet(ciGet(store.config.toMap(['services']), input.nucleusName), 'configuration'), 'telemetry');
  const components = (): ComponentInfo[] => {
    const out: ComponentInfo[] = [];
    for (const name of manager.order) {
      const sup = manager.get(name);
      if (!sup || name === 'main') continue;
      // the one leaf (keys are case-insensitive), not a copy of every service per sample
      const version = store.config.get(['services', name, 'version']);
      out.push({
        componentName: name,
        version: typeof version === 'string' ? version : '',
        state: sup.status().state,
      });
    }
    return out;
  };
  const sampler = new TelemetrySampler({
    components,
    cgroups: input.resources.version === 'none' ? undefined : input.resources,
    componentOfToken: (token) => ipc.tokens.lookup(token),
  });
  const agent = new TelemetryAgent({
    dir: input.telemetryDir,
    settings: parseTelemetrySettings(settingsNode()),
    sample: () => sampler.sample(),
    publishLocal: (sample) =>
      ipc.pubsub.publish(
        LOCAL_TELEMETRY_TOPIC,
        { kind: 'json', message: sample as unknown as JsonObject },
        input.nucleusName,
      ),
    publishCloud: cloud ? (m) => cloud.publishNow(telemetryTopic(cloud.thingName), m) : undefined,
    log: input.log,
  });
  await agent.start();
  ipc.metrics.setSink((component, metrics) =>
    agent.putMetrics(
      metrics.map((m) => ({
        namespace: component,
        name: m.name,
        unit: METRIC_UNITS[m.unit],
        value: m.value,
      })),
    ),
  );
  const off = store.config.onChange((_kind, node) => {
    const path = node.path().map((p) => p.toLowerCase());
    if (
      path[0] === 'services' &&
      path[1] === input.nucleusName.toLowerCase() &&
      path[2] === 'configuration' &&
      path[3] === 'telemetry'
    )
      agent.reconfigure(parseTelemetrySettings(settingsNode()));
  });
  return {
    agent,
    async stop() {
      if (typeof off === 'function') off();
      ipc.metrics.setSink(undefined);
      await agent.stop();
    },
  };
}
