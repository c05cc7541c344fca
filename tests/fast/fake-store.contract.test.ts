/** The fake stores honour the contract the Prisma stores do (see tests/integration/prisma-store.contract.test.ts). */
import { FakeTables } from "../support/fake-store/fake-tables";
import { fakeStores } from "../support/fake-store/fake-stores";
import { storeContract } from "../support/store-contract";

storeContract("in memory", async () => {
  const tables = new FakeTables();
  return {
    ...fakeStores(tables),
    addWorker: async (worker) => tables.addWorker(worker).id,
    addTemplate: async (template) => tables.addTemplate(template).id,
    addLab: async (lab) => tables.addLab(lab).id,
    addEnvironment: async (templateId, labId) => tables.addEnvironment({ templateId, labId }).id,
    environment: async (id) => tables.environment(id),
    workerStatus: async (id) => tables.worker(id)?.status ?? null,
    cleanup: async () => undefined,
  };
});
