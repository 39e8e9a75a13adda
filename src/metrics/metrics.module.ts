import { Global, Module } from '@nestjs/common';
import { makeHistogramProvider, PrometheusModule } from '@willsoto/nestjs-prometheus';
import { register } from 'prom-client';
import { GpuMetricsService } from './gpu-metrics.service';
import { HTTP_DURATION, HttpMetrics } from './http-metrics.service';
import { MetricsController } from './metrics.controller';
import { SystemMetricsService } from './system-metrics.service';

/**
 * Process metrics and HTTP request durations (feature modules add their own metrics); the host's CPU,
 * memory and disk, and the GPUs that the GPU workers report.
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
    makeHistogramProvider({
      name: HTTP_DURATION,
      help: 'HTTP request duration by method, route template and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
    HttpMetrics,
    GpuMetricsService,
    SystemMetricsService,
  ],
  exports: [HttpMetrics, PrometheusModule, GpuMetricsService, SystemMetricsService],
})
export class MetricsModule {}
