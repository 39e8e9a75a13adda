import { Global, Module } from '@nestjs/common';
import { makeCounterProvider, makeHistogramProvider, PrometheusModule } from '@willsoto/nestjs-prometheus';
import { register } from 'prom-client';
import { GpuMetricsService } from './gpu-metrics.service';
import { HTTP_DURATION, HTTP_REQUESTS, HttpMetrics } from './http-metrics.service';
import { MetricsController } from './metrics.controller';
import { SystemMetricsService } from './system-metrics.service';

/** The labels of both HTTP metrics (`status`, as the dashboards of the replaced services query it). */
const HTTP_LABELS = ['method', 'route', 'status'] as const;

/**
 * Process metrics, HTTP request counts and durations (feature modules add their own metrics); the host's
 * CPU, memory and disk, and the GPUs that the GPU workers report.
 */
@Global()
@Module({
  imports: [
    PrometheusModule.registerAsync({
      controller: MetricsController,
      useFactory: () => ({
        path: '/metrics',
        // Default metrics register once per process (several apps may share one in tests).
        defaultMetrics: { enabled: register.getSingleMetric('process_cpu_user_seconds_total') === undefined },
      }),
    }),
  ],
  providers: [
    makeCounterProvider({
      name: HTTP_REQUESTS,
      help: 'Answered HTTP requests by method, route template and status code',
      labelNames: [...HTTP_LABELS],
    }),
    makeHistogramProvider({
      name: HTTP_DURATION,
      help: 'HTTP request duration by method, route template and status code',
      labelNames: [...HTTP_LABELS],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
    HttpMetrics,
    GpuMetricsService,
    SystemMetricsService,
  ],
  exports: [HttpMetrics, PrometheusModule, GpuMetricsService, SystemMetricsService],
})
export class MetricsModule {}
