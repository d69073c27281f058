/**
 * FLOPs (multiply-adds of conv and FC layers) and parameter counts of a width configuration, in the papers'
 * convention: {@link dev.metaprune.nn.cost.CostCounter}.
 */
package dev.metaprune.nn.cost;
