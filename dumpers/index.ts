/** The engine registry: one Engine per `snapkeeper.io/type`. */
import { UserError } from '../src/errors.js';
import { engineTypes, type EngineType } from '../src/manifest.js';
import { elasticsearch } from './elasticsearch.js';
import { mariadb, mysql } from './mysql.js';
import { postgresql } from './postgresql.js';
import type { Engine } from './types.js';

export type { Engine, EngineType };

const engines: Partial<Record<EngineType, Engine>> = { postgresql, mysql, mariadb, elasticsearch };

/** Adds an engine (the Elasticsearch one lives in its own module). */
export function registerEngine(engine: Engine): void {
  engines[engine.type] = engine;
}

export function getEngine(type: EngineType): Engine {
  const engine = engines[type];
  if (!engine) {
    throw new UserError(
      `the ${type} engine is not available in this build (available: ${Object.keys(engines).join(', ')})`,
    );
  }
  return engine;
}

export function isEngineType(s: string): s is EngineType {
  return (engineTypes as readonly string[]).includes(s);
}
