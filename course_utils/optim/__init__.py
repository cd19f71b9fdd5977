"""Chapter 05: the optimisers of the lecture's family graph, from scratch in NumPy.

Each class has ``torch.optim``'s name, keyword names, defaults and validation messages
(``ValueError("Invalid learning rate: -1")``), keeps its state per parameter, and updates a
list of NumPy arrays in place with ``opt.step(grads)``. The unit tests run 100 steps of each
against ``torch.optim`` (float64) and require the same trajectory to 1e-6 relative.

The update rules, for a parameter :math:`\\theta`, its gradient :math:`g_t` at step
:math:`t = 1, 2, \\dots` and the learning rate :math:`\\eta` (weight decay :math:`\\lambda`,
when not decoupled, first replaces :math:`g_t` by :math:`g_t + \\lambda\\theta_{t-1}`):

===========  =====================================================================
SGD          :math:`b_t = \\mu b_{t-1} + (1-\\tau) g_t` (:math:`b_1 = g_1`),
             :math:`\\theta_t = \\theta_{t-1} - \\eta\\,b_t` (Nesterov:
             :math:`- \\eta (g_t + \\mu b_t)`). Polyak 1964; Nesterov 1983;
             Sutskever et al. 2013.
Adagrad      :math:`s_t = s_{t-1} + g_t^2`,
             :math:`\\theta_t = \\theta_{t-1} - \\eta_t\\,g_t / (\\sqrt{s_t} + \\epsilon)`,
             :math:`\\eta_t = \\eta / (1 + (t-1)\\,\\text{lr\\_decay})`. Duchi, Hazan &
             Singer, JMLR 2011.
RMSprop      :math:`v_t = \\alpha v_{t-1} + (1-\\alpha) g_t^2`,
             :math:`\\theta_t = \\theta_{t-1} - \\eta\\,g_t / (\\sqrt{v_t} + \\epsilon)`.
             Tieleman & Hinton, Coursera lecture 6.5, 2012.
Adadelta     :math:`v_t = \\rho v_{t-1} + (1-\\rho) g_t^2`,
             :math:`\\Delta_t = \\sqrt{u_{t-1} + \\epsilon} / \\sqrt{v_t + \\epsilon}\\; g_t`,
             :math:`u_t = \\rho u_{t-1} + (1-\\rho)\\Delta_t^2`,
             :math:`\\theta_t = \\theta_{t-1} - \\eta\\Delta_t`. Zeiler, arXiv:1212.5701, 2012.
Adam         :math:`m_t = \\beta_1 m_{t-1} + (1-\\beta_1) g_t`,
             :math:`v_t = \\beta_2 v_{t-1} + (1-\\beta_2) g_t^2`,
             :math:`\\theta_t = \\theta_{t-1} - \\eta\\,\\hat m_t / (\\sqrt{\\hat v_t} + \\epsilon)`
             with :math:`\\hat m_t = m_t / (1-\\beta_1^t)`,
             :math:`\\hat v_t = v_t / (1-\\beta_2^t)`. Kingma & Ba, ICLR 2015.
AdamW        Adam without the L2 term in :math:`g_t`; instead
             :math:`\\theta \\leftarrow (1 - \\eta\\lambda)\\theta` before the Adam step
             (PyTorch's form; Loshchilov & Hutter, ICLR 2019, decay by the schedule
             multiplier :math:`\\eta_t` times :math:`\\lambda`, not by the learning rate).
===========  =====================================================================

Implemented options: ``momentum``, ``dampening``, ``nesterov``, ``weight_decay`` and
``maximize`` (SGD); ``lr_decay``, ``initial_accumulator_value`` (Adagrad); ``alpha``,
``momentum``, ``centered`` (RMSprop); ``rho`` (Adadelta); ``betas``, ``amsgrad``,
``decoupled_weight_decay`` (Adam). Left out, because they choose *how* torch computes, not
*what*: ``foreach``, ``fused``, ``capturable``, ``differentiable``; also tensor-valued
``lr``/``betas`` and parameter groups (one learning rate for all ``params`` here; set
``opt.lr`` to change it, as a scheduler would).

Beside the classes, the steps as functions: :func:`adam_step` (Adam as the paper writes it,
pure: the chapter's exercise), :func:`adam_update` (the same step in torch's form, in place:
:class:`Adam` calls it), :func:`nesterov_step` (the velocity form), and the two
momentum conventions, :func:`lecture_momentum` and :func:`pytorch_momentum`.

The lesson reads in two files: :mod:`~course_utils.optim.sgd` (the base class, SGD and
momentum) and :mod:`~course_utils.optim.adaptive` (the per-parameter rates); everything is
importable from here (``optim.Adam``, ``optim.adam_step``).
"""

from course_utils.optim._checks import MAX_PARAMETERS, MAX_TRAJECTORY_STEPS
from course_utils.optim.adaptive import (
    Adadelta,
    Adagrad,
    Adam,
    AdamW,
    RMSprop,
    adam_step,
    adam_update,
)
from course_utils.optim.sgd import SGD, Optimizer, lecture_momentum, nesterov_step, pytorch_momentum

__all__ = [
    "Optimizer",
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adadelta",
    "Adam",
    "AdamW",
    "OPTIMIZERS",
    "adam_step",
    "adam_update",
    "nesterov_step",
    "lecture_momentum",
    "pytorch_momentum",
    "MAX_PARAMETERS",
    "MAX_TRAJECTORY_STEPS",
]

#: The classes by name, as the explorer and the notebook's tables list them.
OPTIMIZERS = {cls.__name__: cls for cls in (SGD, Adagrad, RMSprop, Adadelta, Adam, AdamW)}
