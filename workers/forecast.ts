/**
 * Piscina worker: forecast one batch. Thin by design: the work is `forecastBatch`; this file
 * only hands the result's buffers back as transfers instead of copies.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { forecastBatch, type BatchRequest } from '../src/forecast/batch.js';
import { resultBuffers } from '../src/forecast/wire.js';

export default function forecast(req: BatchRequest): unknown {
  const result = forecastBatch(req);
  return move({
    get [transferableSymbol]() {
      return resultBuffers(result);
    },
    get [valueSymbol]() {
      return result;
    },
  });
}
