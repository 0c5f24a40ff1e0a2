/**
 * Piscina worker: forecast one batch. Thin by design: the work is `forecastBatch`; this file
 * only hands the result's buffers back as transfers instead of copies.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { forecastBatch, type BatchRequest, type BatchResult } from '../src/forecast/batch.js';

export default function forecast(req: BatchRequest): unknown {
  const result: BatchResult = forecastBatch(req);
  return move({
    get [transferableSymbol]() {
      return [result.values.buffer, result.labelIds.buffer, result.classIds.buffer];
    },
    get [valueSymbol]() {
      return result;
    },
  });
}
