# Reports: results/summary.html gathers every table and figure of the study.
