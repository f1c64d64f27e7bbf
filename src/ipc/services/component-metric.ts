// PutComponentMetric [IPC-66]: after the checks of component-metric-request.ts, the metrics go to
// the telemetry agent, which merges them into the cloud publication under the caller's name as
// namespace. Without a sink (telemetry not running) the answer is a ServiceError.
import { serviceError } from '../errors.js';
import type { OperationRegistry } from '../operations.js';
import {
  checkMetricRequest,
  PUT_COMPONENT_METRIC,
  type ComponentMetric,
} from './component-metric-request.js';

/** Where accepted metrics go; resolves once they are kept (durable before acknowledged). */
export type ComponentMetricSink = (component: string, metrics: ComponentMetric[]) => Promise<void>;

export class ComponentMetricService {
  private sink: ComponentMetricSink | undefined;
  /** metrics accepted since start */
  accepted = 0;

  setSink(sink: ComponentMetricSink | undefined): void {
    this.sink = sink;
  }

  register(registry: OperationRegistry): this {
    registry.handle(PUT_COMPONENT_METRIC, async (req, ctx) => {
      const metrics = checkMetricRequest(req, ctx);
      const sink = this.sink;
      if (!sink) throw serviceError('PutComponentMetric is not available: no telemetry publisher is running');
      try {
        await sink(ctx.component, metrics);
      } catch (e) {
        throw serviceError(`PutComponentMetric failed: ${(e as Error).message}`);
      }
      this.accepted += metrics.length;
      return {};
    });
    return this;
  }
}
