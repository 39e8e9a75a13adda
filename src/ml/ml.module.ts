import { Module } from '@nestjs/common';
import { MulterModule } from '@nestjs/platform-express';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { MlAdminController } from './ml-admin.controller';
import { MlAdminService } from './ml-admin.service';
import { ML_METRIC_PROVIDERS, MlMetrics } from './ml.metrics';
import { MlService } from './ml.service';
import { MlHealthController } from './ml-health.controller';
import { PredictController } from './predict.controller';
import { PredictionLog } from './predictions/prediction-log';
import { PredictionRecords } from './predictions/prediction-records';
import { ML_ENTITIES } from './registry/entities';
import { ModelRegistry } from './registry/model-registry';
import { ModelStore } from './registry/model-store';
import { ShippedModel } from './registry/shipped-model.bootstrap';
import { InferenceRunner } from './serving/inference-runner';
import { ModelCatalog } from './serving/model-catalog';
import { ModelRuntime } from './serving/model-runtime';
import { V2Controller } from './v2/v2.controller';
import { V2Service } from './v2/v2.service';

function modelStore(config: AppConfig): ModelStore {
  return new ModelStore(config.MODEL_STORE_DIR);
}

/**
 * Prediction models: a registry in Postgres with an ONNX model store, serving on onnxruntime worker
 * threads with dynamic micro-batching, A/B splits, remote workers behind breakers, /predict, the Open
 * Inference Protocol (V2) and outcome feedback. The shipped trading-signal model is registered on
 * first start.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature(ML_ENTITIES),
    MulterModule.registerAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        dest: modelStore(config).uploadDestination(),
        limits: { fileSize: config.ML_UPLOAD_MAX_BYTES, files: 1, fields: 20, parts: 21 },
      }),
    }),
  ],
  controllers: [PredictController, MlHealthController, MlAdminController, V2Controller],
  providers: [
    { provide: ModelStore, inject: [AppConfig], useFactory: modelStore },
    ...ML_METRIC_PROVIDERS,
    MlMetrics,
    ModelRegistry,
    ShippedModel,
    ModelRuntime,
    ModelCatalog,
    InferenceRunner,
    PredictionLog,
    PredictionRecords,
    MlService,
    V2Service,
    MlAdminService,
  ],
  exports: [MlService],
})
export class MlModule {}
