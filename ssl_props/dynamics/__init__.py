"""Learning dynamics of linear non-contrastive SSL (Tian et al. 2021; Wang et al. 2021; Terver et al. 2025).

* :mod:`.fields`: the vector fields (Lemma 1 / Eqns 2-4, Theorem 2, Eqn 7, Eqns 11-13, DirectPred /
  DirectCopy predictors), pure batched torch functions;
* :mod:`.simulate`: batched fixed-step and adaptive integrators (:class:`SimConfig`, :func:`integrate`,
  :func:`simulate`);
* :mod:`.data_models`: input / augmentation covariances with chosen spectra, and Hypothesis strategies;
* :mod:`.training`: toy minibatch SGD with DirectCopy / DirectPred predictors (beyond the ODE);
* :mod:`.moments_model`: the SG / EMA / GD fields of Terver et al. 2025's linear model on view moments;
* :mod:`.testing`: Richardson tolerances and example budgets for properties of trajectories.

A mechanism: the papers' checks that use it live in :mod:`ssl_props.papers`.
"""
from ssl_props.dynamics.fields import (PREDICTORS, LinearState, alignment_K, byol_field, directcopy_predictor,  # noqa: F401
                     directpred_predictor, directset_mode_field, directset_predictor, effective_predictor,
                     feature_correlation, flat_field, mode_field, no_stopgrad_hessian, online_field, pack,
                     population_loss, predictor_field, residual, symmetric_field, target_field, unpack)
from ssl_props.dynamics.simulate import METHODS, SimConfig, Trajectory, integrate, simulate  # noqa: F401
