/**
 * The classic pruning baselines on a dense (own-weights) network: channel groups that must be pruned together
 * ({@link dev.metaprune.prune.ChannelGroups}: residual adds tie dimensions), the surgery that builds the pruned
 * network from the kept channels ({@link dev.metaprune.prune.Surgery}), and the channel rankings: L1-norm of filters
 * (Li et al. 2017) and BatchNorm scales (Network Slimming, Liu et al. 2017) ({@link dev.metaprune.prune.Ranking}).
 */
package dev.metaprune.prune;
