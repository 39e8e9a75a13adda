import { MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { LlmModule } from '../llm/llm.module';
import { ProvidersModule } from '../providers/providers.module';
import { ImageAnalyzeController } from './image-analyze.controller';
import { IMAGE_ANALYZE_ROUTE, ImageBodyMiddleware } from './image-body.middleware';
import { LegacyLlmController } from './legacy-llm.controller';

/** Routes that parse their own bodies (the global JSON parser, with BODY_LIMIT_BYTES, leaves them alone). */
export const COMPAT_OWN_BODY_PATHS: readonly string[] = [`/${IMAGE_ANALYZE_ROUTE}`];

/**
 * The contracts of the five services Conflux replaces, kept field for field so that their clients,
 * scripts, probes and dashboards keep working with only the base URL and credentials changed. Every
 * route here is a thin adapter over a feature module's service; none implements health, metrics,
 * routing or inference a second time.
 *
 * | seed service | routes | controller |
 * |---|---|---|
 * | OneFlow.AI | `POST /api/v1/estimate`, `POST /api/v1/request` | LegacyLlmController |
 * | Production API (Avibe) | `POST /api/v1/text/generate` | LegacyLlmController |
 * | Production API (Avision) | `POST /api/v1/image/analyze` | ImageAnalyzeController |
 * | vLLM + Ollama service | `POST /chat`, `GET /models`, `GET /stats` | LegacyLlmController |
 *
 * OneFlow.AI's `/docs` and `/redoc` are the documentation pages (src/swagger.ts); its wrong-method answers
 * and security headers are those of every route (src/common/http).
 *
 * toto-server's `POST /forecast` and the ML Model Server's `/predict` and `/api/ml/*` are the native
 * routes of the forecasting and ML modules, which grew from those contracts.
 */
@Module({
  imports: [AuthModule, ProvidersModule, LlmModule],
  controllers: [LegacyLlmController, ImageAnalyzeController],
})
export class CompatModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(ImageBodyMiddleware).forRoutes({ path: IMAGE_ANALYZE_ROUTE, method: RequestMethod.POST });
  }
}
