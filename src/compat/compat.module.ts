import { MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { HealthModule } from '../health/health.module';
import { LlmModule } from '../llm/llm.module';
import { ProvidersModule } from '../providers/providers.module';
import { ImageAnalyzeController } from './image-analyze.controller';
import { IMAGE_ANALYZE_ROUTE, IMAGE_FORM_ROUTE, ImageBodyMiddleware } from './image-body.middleware';
import { LegacyLlmController } from './legacy-llm.controller';
import { ServiceHealthController } from './service-health.controller';

/** Routes that parse their own bodies (the global JSON parser, with BODY_LIMIT_BYTES, leaves them alone). */
export const COMPAT_OWN_BODY_PATHS: readonly string[] = [`/${IMAGE_ANALYZE_ROUTE}`, `/${IMAGE_FORM_ROUTE}`];

/**
 * The contracts of the five services Conflux replaces, kept field for field so that their clients,
 * scripts, probes and dashboards keep working with only the base URL and credentials changed. Every
 * route here is a thin adapter over a feature module's service; none implements health, metrics,
 * routing or inference a second time. Their health routes are public, like Conflux's own probes.
 *
 * | seed service | routes | controller |
 * |---|---|---|
 * | OneFlow.AI | `POST /api/v1/estimate`, `POST /api/v1/request` | LegacyLlmController |
 * | Production API (Avibe) | `POST /api/v1/text/generate`, `POST /avibe` (its form's target) | LegacyLlmController |
 * | Production API (Avision) | `POST /api/v1/image/analyze`, `POST /avision` (its form's target) | ImageAnalyzeController |
 * | vLLM + Ollama service | `POST /chat`, `GET /models`, `GET /stats` | LegacyLlmController |
 * | vLLM + Ollama service | `GET /` (service information), `GET /v1/health` (= `GET /health`) | ServiceHealthController |
 * | OneFlow.AI | `GET /ready` (= `GET /health/ready`) | ServiceHealthController |
 * | Production API (Avibe) | `GET /api/health`, `GET /api/health/live`, `GET /api/health/ready`, `GET /api/metrics` | ServiceHealthController |
 *
 * OneFlow.AI's `/docs` and `/redoc` are the documentation pages (src/swagger.ts); its wrong-method answers
 * and security headers are those of every route (src/common/http).
 *
 * toto-server's `POST /forecast` and the ML Model Server's `/predict` and `/api/ml/*` (`GET /api/ml/health`
 * included) are the native routes of the forecasting and ML modules, which grew from those contracts.
 * Every seed's `GET /health` (toto-server's `ok`, the ML Model Server's `models_loaded`, the vLLM +
 * Ollama service's `services`, OneFlow.AI's probe) is the health module's merged summary.
 */
@Module({
  imports: [AuthModule, ProvidersModule, LlmModule, HealthModule],
  controllers: [LegacyLlmController, ImageAnalyzeController, ServiceHealthController],
})
export class CompatModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(ImageBodyMiddleware)
      .forRoutes(
        { path: IMAGE_ANALYZE_ROUTE, method: RequestMethod.POST },
        { path: IMAGE_FORM_ROUTE, method: RequestMethod.POST },
      );
  }
}
