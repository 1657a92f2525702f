// Replaced by the test-infrastructure work: starts PostgreSQL, Kafka and the SNS emulator on demand.
export default async function setup(): Promise<void> {}
