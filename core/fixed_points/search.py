"""One batched fixed-point search: per-init state and one iteration of Newton / chord / LM steps.

``Search`` takes its Newton / LM steps, and measures q, on ``Cell.newton_map`` (a map with the fixed
points of the flow ``Cell.reduced_step``: F itself, LSTM's map on h alone, or a gated cell's
candidate), and relaxes along the flow itself; all per-init quantities float64.
The policy (what stops a point, when to restart it) is documented in ``core.fixed_points.solver``.
"""
from __future__ import annotations

import torch

from core.cells import in_box
from core.fixed_points.linalg import Factored, cap_norm, solve_damped
from core.fixed_points.result import residual_q

__all__ = ["Search", "g_matrix"]

_ARMIJO = 1e-4
_PROGRESS_WINDOW = 4  # iterations a point gets to halve q
_MAX_ANCHORS = 32
_HALVINGS = 6
_RESTART_BASE = 50
_POLISH_GAIN = 1e-2  # a polish round must lower q 100x for the point to get another (slow points do not)
_GHOST = 1e-2  # |G^T r| below this times |G|_F / sqrt(n) |r|: q is stationary where r is not 0 (see check_progress)
_LM_LAMBDA0, _LM_DOWN, _LM_UP, _LM_TO_NEWTON, _LM_GIVE_UP = 1e-2, 1 / 3, 4.0, 1e-6, 1e10


def g_matrix(cell, y_bxm, x, w):
    """G = I - dPhi/dy in the dtype of ``w`` (built in place on the Jacobian)."""
    dtype = w["w_x"].dtype
    g = cell.newton_map(y_bxm.to(dtype), x.to(dtype), w)[1].neg_()
    g.diagonal(dim1=1, dim2=2).add_(1.0)
    return g


class Search:
    """Per-init solver state (float64, length b) on the reduced coordinates."""

    def __init__(self, model, y_bxm, x, opts):
        self.cell, self.x, self.w = model.cell, x, model.weights(torch.float64)
        self.wj, self.xj = model.weights(opts.jac_dtype), x.to(opts.jac_dtype)
        self.lo, self.hi = self.cell.reduced_box()
        self.tol_q, self.chord_steps, self.max_restarts = opts.tol_q, opts.chord_steps, opts.max_restarts
        warm_steps = self.cell.warm_steps if opts.warm_steps is None else opts.warm_steps
        self.restart_steps, self.relax_steps = max(warm_steps, _RESTART_BASE), opts.relax_steps
        self.h = self.forward(self.project(y_bxm), warm_steps)
        self.frontier = self.h.clone()  # where each init's relaxation has got to: restarts continue from here
        b = self.h.shape[0]
        # "slow" is a speed relative to the size of the states: q_slow holds for norm 1 and scales with norm^2
        norm = float(torch.linalg.vector_norm(self.h, dim=1).median()) if b else 1.0
        self.q_slow = opts.q_slow * max(1.0, norm) ** 2
        self.cap = opts.max_step * (max(1.0, float(self.h.abs().max(dim=1).values.median())) if b else 1.0)
        self.f = self.step(self.h)
        self.q = residual_q(self.f, self.h)[1]
        self.n_iters, self.restarts = torch.zeros(b, dtype=torch.int64), torch.zeros(b, dtype=torch.int64)
        self.use_lm, self.done = torch.zeros(b, dtype=torch.bool), torch.zeros(b, dtype=torch.bool)
        self.ghost, self.to_relax = torch.zeros(b, dtype=torch.bool), torch.zeros(b, dtype=torch.bool)
        self.lam = torch.full((b,), _LM_LAMBDA0, dtype=torch.float64)
        self.q_ref, self.ref_iter = self.q.clone(), torch.zeros(b, dtype=torch.int64)
        # anchors: converged points with the LU factors of G there (see shared_chord)
        self.share_radius = opts.share_radius * max(1.0, norm)
        self.anchor_sep = 1e-3 * max(1.0, norm)
        self.anchor_h = torch.zeros(0, self.h.shape[1], dtype=torch.float64)
        self.anchor_fac: list[Factored] = []

    # -- helpers
    def project(self, v):
        return torch.maximum(torch.minimum(v, self.hi), self.lo)

    def step(self, v):
        return self.cell.newton_map(v, self.x, self.w, want_jac=False)[0]

    def flow_q(self):
        """q of every point under the flow itself (``reduced_step``), which ``newton_map`` may differ from."""
        return residual_q(self.cell.reduced_step(self.h, self.x, self.w, want_jac=False)[0], self.h)[1]

    def forward(self, v, steps):
        """``steps`` plain iterations y <- Phi(y), in the Jacobian dtype (they only prepare a start)."""
        v = v.to(self.wj["w_x"].dtype)
        for _ in range(steps):
            v = self.cell.reduced_step(v, self.xj, self.wj, want_jac=False)[0]
        return self.project(v.to(torch.float64))

    def in_box(self, v=None):
        return in_box(self.h if v is None else v, self.lo, self.hi)

    def converged(self, idx=None):
        if idx is None:
            return (self.q < self.tol_q) & self.in_box()
        return (self.q[idx] < self.tol_q) & self.in_box(self.h[idx])

    def active(self):
        return torch.nonzero(~self.converged() & ~self.done).flatten()

    def try_step(self, glob, d_bxn, ok_extra=None, factor=None):
        """Move points ``glob`` by d where that lowers q (below factor * q if given); returns ok."""
        trial = self.project(self.h[glob] + torch.nan_to_num(d_bxn))
        f_t = self.step(trial)
        q_t = residual_q(f_t, trial)[1]
        ok = torch.isfinite(d_bxn).all(dim=1) & (q_t < (self.q[glob] if factor is None else factor * self.q[glob]))
        if ok_extra is not None:
            ok &= ok_extra(trial)
        acc = glob[ok]
        self.h[acc], self.f[acc], self.q[acc] = trial[ok], f_t[ok], q_t[ok]
        return ok

    # -- one iteration
    def iterate(self, active, it):
        self.n_iters[active] += 1
        rest = self.shared_chord(active)
        if len(rest):
            g = g_matrix(self.cell, self.h[rest], self.xj, self.wj)
            r = self.f[rest] - self.h[rest]
            newton = ~self.use_lm[rest]
            if bool(newton.all()):  # the common case: no masked copy of the Jacobians
                self.newton(rest, g, r)
            else:
                self.newton(rest[newton], g[newton], r[newton])
                self.levenberg_marquardt(rest[~newton], g[~newton], r[~newton])
        self.check_progress(active, it)
        self.add_anchors(active)

    def shared_chord(self, active):
        """Chord steps on an anchor's factors for the active points within ``share_radius`` of it (one
        triangular solve per point instead of a fresh LU): most inits of a trained model fall towards a
        few fixed points, and near one its G serves as well as their own. Every step must halve q (as
        a chord step on a point's own factors); the points whose first step failed are returned, for
        a Newton step of their own."""
        if len(self.anchor_fac) == 0 or len(active) == 0:
            return active
        dist, near = torch.cdist(self.h[active], self.anchor_h).min(dim=1)
        cand = torch.nonzero(dist < self.share_radius).flatten()
        handled = torch.zeros(len(active), dtype=torch.bool)
        for a in torch.unique(near[cand]).tolist():
            rows = cand[near[cand] == a]
            for k in range(self.chord_steps + 1):
                rows = rows[~self.converged(active[rows])]
                if len(rows) == 0:
                    break
                glob = active[rows]
                r = (self.f[glob] - self.h[glob]).to(self.wj["w_x"].dtype)
                d = cap_norm(self.anchor_fac[a].solve_many(0, r).to(torch.float64), self.cap)
                ok = self.try_step(glob, d, factor=0.5)
                if k == 0:
                    handled[rows[ok]] = True
                rows = rows[ok]
        return active[~handled]

    def add_anchors(self, active):
        """Points of ``active`` that have just converged become anchors (factored once) unless one lies
        within ``anchor_sep``; at most _MAX_ANCHORS."""
        if self.share_radius <= 0:
            return
        new = active[self.converged(active)]
        for i in new[torch.argsort(self.q[new])].tolist():
            if len(self.anchor_fac) >= _MAX_ANCHORS:
                return
            h = self.h[i:i + 1]
            if len(self.anchor_fac) and float(torch.cdist(h, self.anchor_h).min()) < self.anchor_sep:
                continue
            self.anchor_h = torch.cat([self.anchor_h, h])
            self.anchor_fac.append(Factored(g_matrix(self.cell, h, self.xj, self.wj)))

    def newton(self, glob, g, r, line_search=True):
        """Newton (mixed precision) with backtracking on q, then chord steps on the same factors."""
        fac = Factored(g)
        d = cap_norm(fac.solve(r.to(g.dtype)).to(torch.float64), self.cap)
        solved = torch.isfinite(d).all(dim=1)
        pending, alpha, full = solved.clone(), 1.0, torch.zeros(0, dtype=torch.long)
        for k in range(_HALVINGS + 1 if line_search else 1):
            rows = torch.nonzero(pending).flatten()
            if len(rows) == 0:
                break
            ok = self.try_step(glob[rows], alpha * d[rows], factor=1 - 2 * _ARMIJO * alpha)
            pending[rows[ok]] = False
            full = rows[ok] if k == 0 else full
            alpha *= 0.5
        for _ in range(self.chord_steps):  # where the full step was good the model is too: reuse it
            more = ~self.converged(glob[full])
            full = full[more]
            if len(full) == 0:
                break
            rr = (self.f[glob[full]] - self.h[glob[full]]).to(g.dtype)
            d = cap_norm(fac.solve(rr, full).to(torch.float64), self.cap)
            full = full[self.try_step(glob[full], d, factor=0.5)]
        failed = glob[pending | ~solved]
        self.use_lm[failed], self.lam[failed] = True, _LM_LAMBDA0

    def levenberg_marquardt(self, glob, g, r):
        """Levenberg-Marquardt (in the Jacobian dtype; every step is checked on the float64 q), up to
        3 lambda trials per iteration; back to Newton once lambda is small."""
        if len(glob) == 0:
            return
        gtg, gtr = g.mT @ g, (g.mT @ r.to(g.dtype).unsqueeze(-1))[..., 0]
        mu = gtg.diagonal(dim1=1, dim2=2).mean(dim=1).clamp_min(1e-12)
        ghost = torch.linalg.vector_norm(gtr, dim=1) < _GHOST * mu.sqrt() * torch.linalg.vector_norm(r, dim=1).to(g.dtype)
        self.ghost[glob[ghost]] = True
        sel = torch.arange(len(glob))
        for _ in range(3):
            if len(sel) == 0:
                break
            pts = glob[sel]
            d = cap_norm(solve_damped(gtg[sel], gtr[sel], self.lam[pts].to(g.dtype) * mu[sel]).to(torch.float64),
                         self.cap)
            ok = self.try_step(pts, d)
            self.lam[pts[ok]] *= _LM_DOWN
            self.lam[pts[~ok]] *= _LM_UP
            self.use_lm[pts[ok & (self.lam[pts] < _LM_TO_NEWTON)]] = False
            give_up = self.lam[pts] > _LM_GIVE_UP
            self.stop(pts[give_up])
            sel = sel[~ok & ~give_up]

    def check_progress(self, active, it):
        """A point whose q did not halve in _PROGRESS_WINDOW iterations (below q_slow too: crawling along a
        slow manifold is not converging), that sits against the box, or that LM found at a ghost (its
        Gauss-Newton gradient |G^T r| under _GHOST times the RMS singular value of G times |r|: a local
        minimum of q with r != 0, e.g. a saddle-node's ghost, which no Newton or LM step leaves) is stuck."""
        due = active[((it + 1 - self.ref_iter[active]) >= _PROGRESS_WINDOW) | self.ghost[active]]
        q, ref = self.q[due], self.q_ref[due]
        stuck = (q > 0.5 * ref) | ~self.in_box(self.h[due]) | self.ghost[due]
        self.q_ref[due], self.ref_iter[due] = q, it + 1
        self.stop(due[stuck])

    def stop(self, idx):
        """A stuck point: kept where it is if it is slow and inside the box, otherwise restarted from its
        relaxation frontier, run further along the flow (50, 100, 200, ... more steps), at most
        ``max_restarts`` times; after that it ends on its frontier (a state the flow really reaches),
        relaxed on until it is slow (at most ``relax_steps`` more steps)."""
        if len(idx) == 0:
            return
        slow = (self.q[idx] < self.q_slow) & self.in_box(self.h[idx])
        self.done[idx[slow]] = True
        last = idx[~slow & (self.restarts[idx] >= self.max_restarts)]
        self.done[last], self.to_relax[last] = True, True  # relaxed together in finish()
        redo = idx[~slow & (self.restarts[idx] < self.max_restarts)]
        self.ghost[idx] = False
        for k in torch.unique(self.restarts[redo]).tolist():
            pts = redo[self.restarts[redo] == k]
            self.frontier[pts] = self.forward(self.frontier[pts], self.restart_steps * 2 ** k)
        self.move_to_frontier(redo)
        self.restarts[redo] += 1
        self.use_lm[redo], self.lam[redo] = False, _LM_LAMBDA0
        self.q_ref[redo] = self.q[redo]

    def move_to_frontier(self, idx):
        self.h[idx] = self.frontier[idx]
        self.f[idx] = self.step(self.h[idx])
        self.q[idx] = residual_q(self.f[idx], self.h[idx])[1]

    def finish(self):
        """The points that ended on their frontier (``stop``), relaxed until slow in one batch: one
        run of the flow for all of them costs about as much as one for a few."""
        idx = torch.nonzero(self.to_relax).flatten()
        self.frontier[idx] = self.relax_until_slow(self.frontier[idx], self.relax_steps)
        self.move_to_frontier(idx)
        self.to_relax[idx] = False

    def relax_until_slow(self, v, max_steps, check_every=10):
        """Steps of the map (Jacobian dtype) for each row until 0.5 |Phi(v) - v|^2 < q_slow, at most max_steps."""
        v = v.to(self.wj["w_x"].dtype).clone()
        moving = torch.arange(len(v))
        for _ in range(0, max_steps, check_every):
            if len(moving) == 0:
                break
            u = v[moving]
            for _ in range(check_every):
                nxt = self.cell.reduced_step(u, self.xj, self.wj, want_jac=False)[0]
                u, last = nxt, nxt - u
            v[moving] = u
            moving = moving[0.5 * (last.double() ** 2).sum(1) >= self.q_slow]
        return self.project(v.to(torch.float64))

    def polish(self, subset, target_q, rounds=4):
        """Float64 Newton with backtracking on the points of ``subset`` that are below q_slow and not yet
        below ``target_q``: a true fixed point gets there in a step or two (copies of it then
        coincide); a point on a slow manifold does not, and is reported slow, not converged. A point
        whose q did not fall 100x in a round (_POLISH_GAIN) gets no further round: Newton near a
        fixed point gains orders of magnitude per step, on a slow manifold it does not (this saved
        ~1 s of 6 on gru-stars5, whose inits end half on slow points)."""
        subset = subset[(self.q[subset] < self.q_slow) & self.in_box(self.h[subset])]
        for _ in range(rounds):
            idx = subset[self.q[subset] > target_q]
            if len(idx) == 0:
                break
            q_before = self.q[idx].clone()
            g = g_matrix(self.cell, self.h[idx], self.x, self.w)
            r = self.f[idx] - self.h[idx]
            d = Factored(g).solve(r)
            bad = torch.nonzero(~torch.isfinite(d).all(dim=1)).flatten()
            if len(bad):  # singular G (e.g. on a line attractor): a barely damped Gauss-Newton step
                gb = g[bad]
                d[bad] = solve_damped(gb.mT @ gb, (gb.mT @ r[bad].unsqueeze(-1))[..., 0],
                                      torch.full((len(bad),), 1e-12, dtype=torch.float64))
            alpha, pending = 1.0, torch.ones(len(idx), dtype=torch.bool)
            for _ in range(_HALVINGS + 1):
                rows = torch.nonzero(pending).flatten()
                if len(rows) == 0:
                    break
                pending[rows[self.try_step(idx[rows], alpha * d[rows], ok_extra=self.in_box)]] = False
                alpha *= 0.5
            subset = idx[self.q[idx] < _POLISH_GAIN * q_before]  # Newton near a fixed point gains orders per step
