//! Closing a case: its outputs (every value nothing else uses), and its `dynamic_shapes` in
//! the API the configuration draws: the `Dim` API (AUTO, DYNAMIC, named and derived Dims)
//! from each dim's ground truth, ShapesSpec (ShapeVar ranges and assumptions),
//! AdditionalInputs or a ShapesCollection. The spec is drawn last, so the model and sizes of
//! a case are the same whichever API writes it.

use super::*;

impl Builder<'_> {
    pub(in crate::r#gen) fn finish(mut self, u: &mut Unstructured) -> Result<Case> {
        self.close_outputs();
        self.write_dim_spec(u)?;
        self.write_spec_api(u)?;
        Ok(self.case)
    }

    /// The case's outputs: every tensor nothing else uses (the last tensor when none is).
    fn close_outputs(&mut self) {
        if !self.types.iter().any(|t| t.tensor().is_some()) {
            // Nothing tensor-valued was built: close with the simplest valid op.
            let ok = self.try_push(vec![Op::Unary(Unary {
                x: ValueRef::Input(0),
                f: UnaryFn::Relu,
            })]);
            debug_assert!(ok);
        }
        let unused = self.case.unused_values();
        self.case.outputs = unused
            .into_iter()
            .filter(|v| self.ty(*v).tensor().is_some())
            .collect();
        if self.case.outputs.is_empty() {
            let last = (0..self.types.len())
                .rev()
                .find(|&i| self.types[i].tensor().is_some())
                .unwrap();
            self.case.outputs.push(ValueRef::Node(last as u32));
        }
        self.case.compact();
    }

    /// Every dim's spec in the `Dim` API, from its ground truth and a drawn style (AUTO,
    /// DYNAMIC or named Dims).
    fn write_dim_spec(&mut self, u: &mut Unstructured) -> Result<()> {
        let style = {
            let w = self.cfg.spec_weights;
            let total = (w[0] + w[1] + w[2]).max(1);
            let r = u.int_in_range(0..=total - 1)?;
            if r < w[0] {
                0
            } else if r < w[0] + w[1] {
                1
            } else {
                2
            }
        };
        // A named Dim cannot be given to an int, and an int on the symbol of a named tensor
        // dim would put two promises on one symbol: such cases ask for AUTO throughout.
        let symbols = |e: &DimExpr| {
            let mut v = vec![];
            e.symbols(&mut v);
            v
        };
        let int_shares_symbol = self.case.inputs.iter().any(|i| {
            i.kind.is_int_like()
                && i.dims.iter().flat_map(|d| symbols(&d.size)).any(|s| {
                    self.case.inputs.iter().any(|t| {
                        t.kind == InputKind::Tensor
                            && t.dims.iter().any(|td| symbols(&td.size).contains(&s))
                    })
                })
        });
        let style = if style == 2 && int_shares_symbol {
            0
        } else {
            style
        };
        let static_spec = u.arbitrary::<bool>()?;
        // Floats and bools are burned in; a hint on one is an error export owes the user.
        let hint_on_constant = u.int_in_range(0..=3u8)? == 0;
        for input in &mut self.case.inputs {
            let int = input.kind.is_int_like();
            let constant = matches!(input.kind, InputKind::Float | InputKind::Bool);
            for d in &mut input.dims {
                d.spec = match (&d.truth, style) {
                    _ if constant && hint_on_constant => DimSpec::Auto,
                    _ if constant => DimSpec::Unspecified,
                    // torch takes no named Dims and no STATIC for ints.
                    (DimTruth::Static, _) if int => DimSpec::Unspecified,
                    (_, 1) if int => DimSpec::Dynamic,
                    _ if int => DimSpec::Auto,
                    (DimTruth::Static, _) => {
                        if static_spec {
                            DimSpec::Static
                        } else {
                            DimSpec::Unspecified
                        }
                    }
                    (_, 0) => DimSpec::Auto,
                    (_, 1) => DimSpec::Dynamic,
                    (DimTruth::MultipleOf { k }, _) => DimSpec::Derived { k: *k },
                    // `min=2` stated even where it is torch's effective bound: a reader of
                    // a reproducer should not have to know that a smaller min is raised to 2.
                    (DimTruth::Bounded { runs }, _) => DimSpec::Named {
                        min: Some(runs.first().map_or(2, |r| r[0]).max(2)),
                        max: runs.last().map(|r| r[1]).filter(|&m| m < SCAN_MAX),
                    },
                    _ => DimSpec::Named {
                        min: Some(2),
                        max: None,
                    },
                };
            }
        }
        // Derived dims need their root named; under a named style every dim of the root's
        // symbol is named, under AUTO/DYNAMIC no Derived spec is produced.
        Ok(())
    }

    /// The spec API the case is written in, drawn last, so that the rest of the case is the
    /// same under either API.
    fn write_spec_api(&mut self, u: &mut Unstructured) -> Result<()> {
        // An export option of the Dim API, drawn before the API so that the rest of a case is
        // the same under either: torch refuses it beside a ShapesSpec ("cannot be combined
        // with dynamic_shapes=ShapesSpec(...)", whose unbacked symbols assert at run time).
        let deferred =
            self.cfg.deferred_percent > 0 && u.int_in_range(0..=99u32)? < self.cfg.deferred_percent;
        if self.cfg.shapes_percent > 0 && u.int_in_range(0..=99u32)? < self.cfg.shapes_percent {
            self.write_with_shapes_spec(u)?;
        }
        self.case.deferred_asserts = deferred && self.case.spec_api() == SpecApi::Dim;
        // Another spelling of a `Dim` case, drawn last for the same reason
        if self.case.spec_api() == SpecApi::Dim
            && !self.case.deferred_asserts
            && self.cfg.additional_percent > 0
            && u.int_in_range(0..=99u32)? < self.cfg.additional_percent
        {
            self.write_with_additional_inputs(u)?;
        }
        if self.case.spec_api() == SpecApi::Dim
            && self.cfg.collection_percent > 0
            && u.int_in_range(0..=99u32)? < self.cfg.collection_percent
            && let Some(collection) = self.case.in_spec_api(SpecApi::Collection)
        {
            self.case = collection;
        }
        Ok(())
    }

    /// Rewrites the spec as `torch.export.AdditionalInputs`: one or two of the case's normal
    /// probes become more examples, and every dim's spec is what torch infers from them
    /// (`Dim.DYNAMIC` where the size differs from the export size, static where not).
    /// Unchanged when the chosen probes move no dim.
    pub(in crate::r#gen) fn write_with_additional_inputs(
        &mut self,
        u: &mut Unstructured,
    ) -> Result<()> {
        let export = &self.case.export;
        let probes: Vec<Valuation> = self
            .case
            .normal_probes()
            .map(|p| p.sizes.clone())
            .filter(|v| v != export && v.iter().all(|&n| n >= 2))
            .collect();
        if probes.is_empty() {
            return Ok(());
        }
        let mut with = self.case.clone();
        for _ in 0..u.int_in_range(1..=2u8)? {
            let v = &probes[u.choose_index(probes.len())?];
            if !with.additional_inputs.contains(v) {
                with.additional_inputs.push(v.clone());
            }
        }
        with.infer_additional_specs();
        if with
            .inputs
            .iter()
            .flat_map(|i| &i.dims)
            .any(|d| d.spec == DimSpec::Dynamic)
        {
            self.case = with;
        }
        Ok(())
    }

    /// Rewrites the spec with the ShapesSpec API: each symbol that only tensor dims and int
    /// inputs carry, and that the model does not force to one size, becomes a `ShapeVar`
    /// with a range drawn to reach 0/1 and to leave some probes outside it; everything else
    /// is static. Unchanged when no symbol qualifies.
    pub(in crate::r#gen) fn write_with_shapes_spec(&mut self, u: &mut Unstructured) -> Result<()> {
        let case = &self.case;
        let var_able = |s: usize| {
            let dims: Vec<(&Input, &InputDim)> = case
                .inputs
                .iter()
                .flat_map(|i| i.dims.iter().map(move |d| (i, d)))
                .filter(|(_, d)| d.size.symbol_index() == Some(s))
                .collect();
            // torch binds a ShapeVar through a dim that is the var itself: one used only in
            // `s0 * 2` is refused ("must also appear as a bare-IntVar slot")
            dims.iter().any(|(_, d)| matches!(d.size, DimExpr::Sym(_)))
                && dims.iter().all(|(i, d)| {
                    matches!(
                        i.kind,
                        InputKind::Tensor | InputKind::Int | InputKind::IntList
                    ) && d.truth != DimTruth::Static
                        && matches!(d.size, DimExpr::Sym(_) | DimExpr::Mul(..))
                })
        };
        let valid = case.valid_runs();
        let mut ranges: Vec<Option<(i64, Option<i64>)>> = vec![None; case.symbol_count()];
        for (s, range) in ranges.iter_mut().enumerate() {
            if !var_able(s) {
                continue;
            }
            let export = case.export[s];
            let first_valid = valid[s].first().map_or(2, |r| r[0]).min(export);
            // ShapeVar's default 0 most often: the range that reaches 0/1, which the Dim API
            // assumes away and ShapesSpec promises to take
            let min = match u.int_in_range(0..=9u8)? {
                0..=3 => 0,
                4 => 1,
                5..=7 => 2.min(export),
                _ => first_valid,
            };
            let max = match u.int_in_range(0..=3u8)? {
                0 => Some(export + u.int_in_range(0..=8)?),
                _ => None,
            };
            *range = Some((min, max));
        }
        if ranges.iter().all(Option::is_none) {
            return Ok(());
        }
        // Now and then an assumption (`s0 % 2 == 1`) that the example keeps and some probes
        // break: export may use it, the program must assert it.
        if u.int_in_range(0..=3u8)? == 0 {
            let vars: Vec<usize> = (0..ranges.len()).filter(|&s| ranges[s].is_some()).collect();
            let s = vars[u.choose_index(vars.len())?];
            let modulus = u.int_in_range(2..=4i64)?;
            self.case.assumptions.push(Assumption::Mod {
                sym: s as u32,
                modulus,
                remainder: self.case.export[s].rem_euclid(modulus),
            });
        }
        // And a relation between two ShapeVars (`s0 <= s1`) as the example has it.
        let vars: Vec<usize> = (0..ranges.len()).filter(|&s| ranges[s].is_some()).collect();
        if vars.len() >= 2 && u.int_in_range(0..=3u8)? == 0 {
            let a = vars[u.choose_index(vars.len())?];
            let rest: Vec<usize> = vars.iter().copied().filter(|&s| s != a).collect();
            let b = rest[u.choose_index(rest.len())?];
            let (lo, hi) = if self.case.export[a] <= self.case.export[b] {
                (a, b)
            } else {
                (b, a)
            };
            self.case.assumptions.push(Assumption::Le {
                lo: lo as u32,
                hi: hi as u32,
            });
        }
        for input in &mut self.case.inputs {
            for d in &mut input.dims {
                d.spec = match d.size.symbol_index().and_then(|s| ranges[s]) {
                    Some((min, max)) => DimSpec::Var { min, max },
                    None => DimSpec::Unspecified,
                };
            }
        }
        Ok(())
    }
}
