/**
 * Who hears of each SQL statement's duration (the metrics' statement histogram). Registered per
 * database (a Knex instance); its transactions share the instance's `client.config`, so one lookup
 * finds the observer from the root Knex and from any transaction of it.
 */
import type { Knex } from 'knex';

/** `inReadProcess`: the statement ran in a SQLite read process (the time includes the trip there). */
export type StatementObserver = (seconds: number, inReadProcess: boolean) => void;

const observers = new WeakMap<object, StatementObserver>();

export function observeStatements(knex: Knex, observer: StatementObserver): void {
  observers.set(knex.client.config as object, observer);
}

export function statementObserverOf(knex: Knex | Knex.Transaction): StatementObserver | undefined {
  return observers.get(knex.client.config as object);
}
