import type { SeriesReader } from '../ports';
import type { Bill } from './bill';
import type { BillParties } from './bill-pdf';

export interface BillPartiesDeps {
  seriesReader: Pick<SeriesReader, 'listSubjects'>;
  /** The operator's display name (identity store); undefined → the report shows the operator id. */
  operatorName?: (operatorId: string) => Promise<string | undefined>;
  /** IANA zone the operator's reports print times in; undefined → UTC, stated as UTC. */
  timeZone?: (operatorId: string) => Promise<string | undefined>;
}

/**
 * Adapter: the names a bill's PDF prints that the bill does not store. The customer is named by the
 * subject's label as the collectors report it (the IP group's or interface's name), which is what the
 * operator called that customer's traffic; a failed lookup prints the fallbacks, never fails the PDF.
 */
export function createBillPartiesLookup(deps: BillPartiesDeps): (bill: Bill) => Promise<BillParties> {
  return async (bill) => {
    const [operatorName, subjects, timeZone] = await Promise.all([
      deps.operatorName?.(bill.operatorId).catch(() => undefined),
      deps.seriesReader.listSubjects(bill.operatorId).catch(() => []),
      deps.timeZone?.(bill.operatorId).catch(() => undefined),
    ]);
    const label = subjects.find((s) => s.subjectId === bill.subjectId)?.label;
    return {
      ...(operatorName ? { operatorName } : {}),
      ...(label && label !== bill.subjectId ? { customerName: label } : {}),
      ...(timeZone ? { timeZone } : {}),
    };
  };
}
