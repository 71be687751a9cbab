// Exact inverse RG: a chain over the sizes L0, 2L0, …, L0·2^K at once, whose stationary distribution is
// the product of the exact Boltzmann distributions of every size. Each size has its own exact Monte Carlo
// sweeps; neighbouring sizes exchange states by a Metropolis–Hastings move whose proposal is the
// network's (Singha et al. 2025 for the factorised proposal; the exchange is a scale analogue of
// parallel tempering's swap, Hukushima & Nemoto 1996):
//
//   state (c, φ) at sizes (L, 2L), proposal (Bφ, φ′) with φ′ ~ q_θ(· | c), so that Bφ′ = c,
//   accepted with min(1, w(φ′)/w(φ)),  ln w(x) = −S_2L(x) + S_L(Bx) − ln q_θ(x | Bx).
//
// The reverse move of (c, φ) → (Bφ, φ′) is (Bφ, φ′) → (Bφ′, φ) = (c, φ), drawn with q_θ(φ | Bφ), so
// detailed balance holds for π(c) π(φ) with only unnormalised actions; the move is exact for any
// network (a poor one is merely rejected more often). With no sweeps above L0 it is the independence
// sampler of the fine size fed by the exact chain below; with sweeps it is the mixed kernel.

import { type Lattice } from "../lattice/geometry.js";
import { type Rng } from "../lattice/rng.js";
import { type Chains } from "../mc/chains.js";
import { type CompatibleMap } from "./decimated.js";

/** A size's state as its sampler saves it: spins or states (int8), fields (float64). */
type State = Int8Array | Float64Array;
type Config = Int8Array | Float32Array;

export interface MultilevelLevel {
  lat: Lattice;
  /** The size's own exact sampler (one chain), already thermalised or not. */
  chains: Chains<Config>;
  /** The dimensionless action S(x) = −ln(unnormalised probability) of a configuration of this size. */
  action(cfg: ArrayLike<number>): number;
  /** Own sweeps per round (0: the size changes only by exchanges with its neighbours). */
  sweeps: number;
  /**
   * Observables of any configuration of this size (the model's per-configuration ones): the chain
   * records them for every exchange proposal, so that self-normalised importance weights give a
   * second, independent estimate (Σ w O / Σ w over proposals, with c drawn from the exact chain below).
   */
  observe?: { names: readonly string[]; measure(cfg: ArrayLike<number>, out: Float64Array): void };
}

export interface ExchangeStats {
  /** Exchanges proposed and accepted between this size and the next smaller one. */
  proposed: number;
  accepted: number;
  /** ln w of every proposal (for the effective sample size of importance weights). */
  logWeights: number[];
  /** The last exchange: accepted or not, and its proposal's ln w. */
  lastAccepted: boolean;
  lastLogWeight: number;
}

export interface Multilevel {
  readonly levels: readonly MultilevelLevel[];
  /** Own sweeps of every size, then the exchanges from the smallest pair upward. */
  round(): void;
  /**
   * A start in equilibrium's neighbourhood: `sweeps` sweeps of size L0, then every larger size drawn by
   * its map from the one below. (From random states every exchange would be refused: a random state's
   * weight w is astronomically large.)
   */
  initialize(sweeps: number): void;
  /** The current configuration of size index k (0 = L0) into `out` (as the sampler gives it). */
  config(k: number, out: Config): void;
  /** Exchange statistics of size k ≥ 1 with size k − 1. */
  stats(k: number): ExchangeStats;
  /** The last exchange proposal of size k ≥ 1 (overwritten by the next round). */
  proposal(k: number): Readonly<State>;
}

/**
 * `maps[k]` generates size k + 1 from size k and must be compatible with `block` (its draws block
 * back exactly). `keepWeights`: store every proposal's ln w (for ESS); off for long production runs.
 */
export function makeMultilevel(levels: MultilevelLevel[], maps: CompatibleMap[], block: (lat: Lattice, fine: State, out: State) => void, rng: Rng, opts: { keepWeights?: boolean } = {}): Multilevel {
  if (levels.length < 2) throw new RangeError("an exact multilevel chain needs at least two sizes");
  if (maps.length !== levels.length - 1) throw new RangeError(`${levels.length} sizes need ${levels.length - 1} maps, got ${maps.length}`);
  levels.forEach((lv, k) => {
    if (k > 0 && lv.lat.L !== 2 * levels[k - 1]!.lat.L) throw new RangeError(`size ${lv.lat.L} does not double ${levels[k - 1]!.lat.L}`);
  });
  const prop = levels.map((lv) => newState(lv));
  const blocked = levels.map((lv, k) => (k === 0 ? null : newState(levels[k - 1]!)));
  // The exact state (not a float32 copy): the weights and the decimated sites must be those of the chain.
  const state = (k: number): State => levels[k]!.chains.save().spins as State;
  const stats: ExchangeStats[] = levels.map(() => ({ proposed: 0, accepted: 0, logWeights: [], lastAccepted: false, lastLogWeight: Number.NaN }));
  const keep = opts.keepWeights ?? true;

  const set = (k: number, cfg: State): void => {
    const st = levels[k]!.chains.save();
    levels[k]!.chains.restore({ ...st, spins: cfg.slice() });
  };
  /** ln w of the current fine state x at size k (blocked into `blocked[k]`). */
  const logW = (k: number, x: State, into: State): number => {
    block(levels[k]!.lat, x, into);
    return -levels[k]!.action(x) + levels[k - 1]!.action(into) - maps[k - 1]!.logProb(into, levels[k - 1]!.lat.L, x);
  };

  const exchange = (k: number): void => {
    const fine = levels[k]!, coarseLv = levels[k - 1]!;
    const c = state(k - 1);
    const wNow = logW(k, state(k), blocked[k]!);
    const lq = maps[k - 1]!.sample(c, coarseLv.lat.L, rng, prop[k]!);
    // Bφ′ = c by construction: the coarse action is that of the current coarse state.
    const wNew = -fine.action(prop[k]!) + coarseLv.action(c) - lq;
    const st = stats[k]!;
    st.proposed++;
    if (keep) st.logWeights.push(wNew);
    st.lastLogWeight = wNew;
    st.lastAccepted = Math.log(rng.double()) < wNew - wNow;
    if (st.lastAccepted) {
      st.accepted++;
      set(k, prop[k]!);
      set(k - 1, blocked[k]!);
    }
  };

  return {
    levels,
    initialize(sweeps) {
      for (let s = 0; s < sweeps; s++) levels[0]!.chains.sweep();
      for (let k = 1; k < levels.length; k++) {
        maps[k - 1]!.sample(state(k - 1), levels[k - 1]!.lat.L, rng, prop[k]!);
        set(k, prop[k]!);
      }
    },
    round() {
      for (const lv of levels) for (let s = 0; s < lv.sweeps; s++) lv.chains.sweep();
      for (let k = 1; k < levels.length; k++) exchange(k);
    },
    config(k, out) {
      levels[k]!.chains.config(0, out);
    },
    stats: (k) => stats[k]!,
    proposal: (k) => prop[k]!,
  };
}

/** A buffer of the level's state type; the sampler's saved state must be the configuration itself. */
function newState(lv: MultilevelLevel): State {
  const st = lv.chains.save().spins;
  if (!(st instanceof Int8Array || st instanceof Float64Array) || st.length !== lv.lat.V) {
    throw new RangeError(`the sampler of size ${lv.lat.L} does not keep its configuration as its state (multi-spin coding?); use a local or cluster algorithm`);
  }
  return st instanceof Int8Array ? new Int8Array(lv.lat.V) : new Float64Array(lv.lat.V);
}

/**
 * The multilevel chain as one Markov chain of the run loop (mc/run.ts): a sweep is a round, the
 * configuration and observables are those of the largest size, plus, for every exchange, whether it
 * was accepted and its proposal's ln w; the state is every size's state, the exchange generator and
 * the counts, so checkpoints resume bit for bit.
 */
export function multilevelChains(ml: Multilevel, rng: Rng): Chains<Config> {
  const top = ml.levels.at(-1)!;
  const K = ml.levels.length;
  const nTop = top.chains.observables.length;
  // Per exchange: accepted or not, the proposal's ln w, and the proposal's observables.
  const exchanges = ml.levels.slice(1).flatMap((lv) => [`accepted_L${lv.lat.L}`, `logw_L${lv.lat.L}`, ...(lv.observe?.names ?? []).map((o) => `proposal_${o}_L${lv.lat.L}`)]);
  const obsBuf = ml.levels.map((lv) => new Float64Array(lv.observe?.names.length ?? 0));
  return {
    chains: 1,
    observables: [...top.chains.observables, ...exchanges],
    sweep: () => ml.round(),
    endThermalization: () => ml.levels.forEach((lv) => lv.chains.endThermalization()),
    measure(out) {
      top.chains.measure(out.slice(0, nTop));
      let at = nTop;
      for (let k = 1; k < K; k++) {
        const st = ml.stats(k);
        out[at++]![0] = st.lastAccepted ? 1 : 0;
        out[at++]![0] = st.lastLogWeight;
        const ob = ml.levels[k]!.observe;
        if (ob) {
          ob.measure(ml.proposal(k), obsBuf[k]!);
          for (const v of obsBuf[k]!) out[at++]![0] = v;
        }
      }
    },
    config: (_c, out) => top.chains.config(0, out),
    save() {
      const states = ml.levels.map((lv) => lv.chains.save());
      const n = states.reduce((a, st) => a + st.spins.length, 0);
      const spins = new (states[0]!.spins.constructor as new (n: number) => Int8Array | Float32Array | Float64Array)(n);
      const extra: Record<string, number> = { multilevel_sizes: K };
      let at = 0;
      states.forEach((st, k) => {
        spins.set(st.spins as never, at);
        at += st.spins.length;
        st.rng.forEach((w, j) => (extra[`l${k}_rng${j}`] = w));
        for (const [key, v] of Object.entries(st.extra)) extra[`l${k}_${key}`] = v;
        if (k > 0) {
          extra[`l${k}_proposed`] = ml.stats(k).proposed;
          extra[`l${k}_accepted`] = ml.stats(k).accepted;
        }
      });
      return { rng: Uint32Array.from(rng.state()), spins, extra };
    },
    restore(st) {
      if (st.extra.multilevel_sizes !== K) throw new RangeError(`checkpoint of ${st.extra.multilevel_sizes} sizes, this chain has ${K}`);
      rng.setState(st.rng);
      let at = 0;
      ml.levels.forEach((lv, k) => {
        const own = lv.chains.save();
        const n = own.spins.length;
        const spins = new (own.spins.constructor as new (a: ArrayLike<number>) => typeof own.spins)(st.spins.subarray(at, at + n) as never);
        at += n;
        const extra: Record<string, number> = {};
        const prefix = `l${k}_`;
        for (const [key, v] of Object.entries(st.extra)) if (key.startsWith(prefix) && !/^rng\d$|^proposed$|^accepted$/.test(key.slice(prefix.length))) extra[key.slice(prefix.length)] = v;
        lv.chains.restore({ rng: Uint32Array.from([0, 1, 2, 3], (j) => st.extra[`${prefix}rng${j}`]!), spins, extra });
        if (k > 0) {
          ml.stats(k).proposed = st.extra[`${prefix}proposed`]!;
          ml.stats(k).accepted = st.extra[`${prefix}accepted`]!;
        }
      });
    },
  };
}

